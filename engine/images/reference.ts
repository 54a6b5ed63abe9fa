/**
 * Image references exactly as Docker parses and normalizes them
 * (distribution/reference): registry host, `library/` for one-component
 * Docker Hub names, default tag `latest`, digests, and Docker's error wording.
 */
import { InvalidParameterError } from '../errdefs.js';

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const tagRe = new RegExp(`^${tagPat}$`);
const anchoredIdRe = /^[a-f0-9]{64}$/;
const shortIdRe = /^[a-f0-9]{1,64}$/;

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';

export class Reference {
  constructor(
    /** Registry host (docker.io for Docker Hub). */
    readonly domain: string,
    /** Repository path within the registry, e.g. library/busybox. */
    readonly path: string,
    readonly tag: string | undefined,
    readonly digest: string | undefined,
  ) {}

  /** docker.io/library/busybox */
  get name(): string {
    return `${this.domain}/${this.path}`;
  }

  /** The short form users see: busybox, foo/bar, localhost:5000/x. */
  get familiarName(): string {
    if (this.domain === DEFAULT_DOMAIN) {
      return this.path.startsWith(OFFICIAL_REPO_PREFIX) && this.path.split('/').length === 2 ? this.path.slice(OFFICIAL_REPO_PREFIX.length) : this.path;
    }
    return this.name;
  }

  /** Full string: docker.io/library/busybox:latest or ...@sha256:... */
  toString(): string {
    return this.name + (this.tag !== undefined ? `:${this.tag}` : '') + (this.digest !== undefined ? `@${this.digest}` : '');
  }

  familiarString(): string {
    return this.familiarName + (this.tag !== undefined ? `:${this.tag}` : '') + (this.digest !== undefined ? `@${this.digest}` : '');
  }

  withTag(tag: string): Reference {
    return new Reference(this.domain, this.path, tag, undefined);
  }

  withDigest(digest: string): Reference {
    return new Reference(this.domain, this.path, undefined, digest);
  }

  /** Adds the default tag when neither tag nor digest is given. */
  tagged(): Reference {
    return this.tag === undefined && this.digest === undefined ? this.withTag(DEFAULT_TAG) : this;
  }
}

function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost' && name.slice(0, i).toLowerCase() === name.slice(0, i))) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

function invalid(msg: string): InvalidParameterError {
  return new InvalidParameterError(msg);
}

/**
 * Parses a reference the way `docker pull`/`tag` do (ParseNormalizedNamed).
 * Throws InvalidParameterError with Docker's messages.
 */
export function parseReference(s: string): Reference {
  if (anchoredIdRe.test(s)) throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  if (s === '') throw invalid('invalid reference format');
  // Split name from tag/digest to check the remote name's case first, as Docker does.
  const [domainGuess, rest] = splitDomain(s);
  // Like distribution's ParseNormalizedNamed: the name is everything before the first ':'.
  const colon = rest.indexOf(':');
  const remote = colon >= 0 ? rest.slice(0, colon) : rest;
  if (remote.toLowerCase() !== remote) throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`);
  const full = `${domainGuess}/${rest}`;
  const m = referenceRe.exec(full);
  if (!m) throw invalid('invalid reference format');
  const name = m[1]!;
  if (name.length > 255) throw invalid('repository name must not be more than 255 characters');
  const [domain, path] = splitDomain(name);
  const digest = m[3];
  if (digest !== undefined) validateDigest(digest);
  return new Reference(domain, path, m[2], digest);
}

/** Parses and adds the default tag. */
export function parseTaggedReference(s: string): Reference {
  return parseReference(s).tagged();
}

export function validateTag(tag: string): void {
  if (!tagRe.test(tag)) throw invalid(`invalid tag format`);
}

export function validateDigest(digest: string): void {
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):(.+)$/.exec(digest);
  if (!m) throw invalid('invalid checksum digest format');
  if (m[1] === 'sha256' && !/^[a-f0-9]{64}$/.test(m[2]!)) throw invalid('invalid checksum digest length');
  if (m[1] !== 'sha256' && m[1] !== 'sha384' && m[1] !== 'sha512') throw invalid('unsupported digest algorithm');
}

export function isFullImageId(s: string): boolean {
  return anchoredIdRe.test(s) || (s.startsWith('sha256:') && anchoredIdRe.test(s.slice(7)));
}

/** Could s be a (possibly truncated) hex ID? */
export function isIdPrefix(s: string): boolean {
  const hex = s.startsWith('sha256:') ? s.slice(7) : s;
  return shortIdRe.test(hex);
}
