/**
 * Where a registry name leads: Docker Hub's `docker.io` means
 * registry-1.docker.io (after any configured mirrors, pulls only); other
 * registries are HTTPS, and those marked insecure (loopback always, plus
 * `insecure-registries` names and CIDRs) accept any certificate and fall
 * back to plain HTTP. TLS trust comes from the system CA bundle plus
 * per-registry certs.d directories, as with dockerd.
 */
import fs from 'node:fs';
import path from 'node:path';
import dns from 'node:dns/promises';
import net from 'node:net';
import { InvalidParameterError } from '../errdefs.js';

export const DOCKER_HUB_DOMAIN = 'docker.io';
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
export const DOCKER_HUB_INDEX = 'index.docker.io';
export const INDEX_SERVER = 'https://index.docker.io/v1/';

export interface TlsSettings {
  /** Verify the server certificate (false for insecure registries). */
  verify: boolean;
  ca?: string[];
  cert?: string;
  key?: string;
}

export interface Endpoint {
  /** Base URL: scheme://host[:port] (no path). */
  url: URL;
  mirror: boolean;
  official: boolean;
  tls: TlsSettings;
}

export interface RegistrySettings {
  registryMirrors: string[];
  insecureRegistries: string[];
}

/** Directories with per-registry certificates: <dir>/<host:port>/{ca.crt,*.crt,*.cert,*.key}. */
export const certsDirs = ['/etc/docker/certs.d', '/etc/berth/certs.d'];
const systemCaFiles = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

let systemCa: string[] | undefined;

/** The system's CA bundle (what Go's crypto/x509 uses on Linux), read once. */
export function systemCertificates(): string[] | undefined {
  if (systemCa === undefined) {
    systemCa = [];
    for (const f of systemCaFiles) {
      try {
        systemCa.push(fs.readFileSync(f, 'utf8'));
        break;
      } catch {
        /* try the next location */
      }
    }
  }
  return systemCa.length > 0 ? systemCa : undefined;
}

function hostTlsFiles(host: string): { ca: string[]; cert?: string; key?: string } {
  const ca: string[] = [];
  let cert: string | undefined;
  let key: string | undefined;
  for (const dir of certsDirs) {
    const d = path.join(dir, host.replace(/^\[|\]$/g, ''));
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      const p = path.join(d, n);
      try {
        if (n.endsWith('.crt')) ca.push(fs.readFileSync(p, 'utf8'));
        else if (n.endsWith('.cert') && !cert) {
          const k = p.slice(0, -'.cert'.length) + '.key';
          cert = fs.readFileSync(p, 'utf8');
          key = fs.readFileSync(k, 'utf8');
        }
      } catch {
        /* unreadable files are skipped, as dockerd does for missing keys */
      }
    }
  }
  return { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

interface Cidr {
  bytes: Buffer;
  bits: number;
}

function ipBytes(ip: string): Buffer | undefined {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (net.isIPv6(ip)) {
    // Expand :: and an embedded IPv4 tail.
    let s = ip;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (v4) {
      const b = v4[1]!.split('.').map(Number);
      s = s.slice(0, -v4[1]!.length) + ((b[0]! << 8) | b[1]!).toString(16) + ':' + ((b[2]! << 8) | b[3]!).toString(16);
    }
    const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
    // IPv4-mapped addresses match IPv4 CIDRs.
    if (out.subarray(0, 10).every((x) => x === 0) && out[10] === 0xff && out[11] === 0xff) return out.subarray(12);
    return out;
  }
  return undefined;
}

function parseCidr(s: string): Cidr | undefined {
  const m = /^(.+)\/(\d+)$/.exec(s);
  if (!m) return undefined;
  const bytes = ipBytes(m[1]!);
  const bits = Number(m[2]);
  if (!bytes || bits > bytes.length * 8) return undefined;
  return { bytes, bits };
}

function cidrContains(c: Cidr, ip: Buffer): boolean {
  if (c.bytes.length !== ip.length) return false;
  let bits = c.bits;
  for (let i = 0; i < ip.length && bits > 0; i++) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (c.bytes[i]! & mask)) return false;
    bits -= 8;
  }
  return true;
}

/** host[:port] without brackets around an IPv6 host, and the port. */
export function splitHostPort(hostPort: string): { host: string; port: string | undefined } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (v6) return { host: v6[1]!, port: v6[2] };
  const i = hostPort.lastIndexOf(':');
  if (i > 0 && hostPort.indexOf(':') === i) return { host: hostPort.slice(0, i), port: hostPort.slice(i + 1) };
  return { host: hostPort, port: undefined };
}

/** Validates `insecure-registries` entries the way dockerd does at startup. */
export function parseInsecureRegistries(entries: string[]): { cidrs: Cidr[]; names: Set<string> } {
  const cidrs: Cidr[] = [parseCidr('127.0.0.0/8')!, parseCidr('::1/128')!];
  const names = new Set<string>();
  for (let r of entries) {
    const scheme = /^([a-zA-Z]+):\/\//.exec(r);
    if (scheme) {
      if (!['http', 'https'].includes(scheme[1]!.toLowerCase())) throw new InvalidParameterError(`insecure registry ${r} should not contain '://'`);
      r = r.slice(scheme[0].length);
    }
    const c = parseCidr(r);
    if (c) cidrs.push(c);
    else names.add(r.replace(/\/+$/, ''));
  }
  return { cidrs, names };
}

export class EndpointResolver {
  constructor(private readonly settings: () => RegistrySettings) {}

  /** Is this registry host (host[:port]) secure, i.e. not insecure? */
  async isSecure(hostPort: string): Promise<boolean> {
    if (hostPort === DOCKER_HUB_DOMAIN || hostPort === DOCKER_HUB_INDEX || hostPort === DOCKER_HUB_REGISTRY) return true;
    const { cidrs, names } = parseInsecureRegistries(this.settings().insecureRegistries);
    if (names.has(hostPort)) return false;
    const { host } = splitHostPort(hostPort);
    let ips: Buffer[] = [];
    const literal = ipBytes(host);
    if (literal) ips = [literal];
    else {
      try {
        ips = (await dns.lookup(host, { all: true })).map((a) => ipBytes(a.address)).filter((b): b is Buffer => b !== undefined);
      } catch {
        ips = [];
      }
    }
    return !ips.some((ip) => cidrs.some((c) => cidrContains(c, ip)));
  }

  tlsFor(hostPort: string, secure: boolean): TlsSettings {
    const files = hostTlsFiles(hostPort);
    const sys = systemCertificates();
    const ca = [...(sys ?? []), ...files.ca];
    return { verify: secure, ...(ca.length > 0 ? { ca } : {}), ...(files.cert ? { cert: files.cert, key: files.key! } : {}) };
  }

  /**
   * Endpoints to try in order. Pulls include Docker Hub mirrors; pushes and
   * logins never do (credentials and content must not go to a mirror).
   */
  async lookup(domain: string, includeMirrors: boolean): Promise<Endpoint[]> {
    if (domain === DOCKER_HUB_DOMAIN || domain === DOCKER_HUB_INDEX) {
      const out: Endpoint[] = [];
      if (includeMirrors) {
        for (const m of this.settings().registryMirrors) {
          const url = new URL(m.includes('://') ? m : `https://${m}`);
          const secure = await this.isSecure(url.host);
          out.push({ url: new URL(`${url.protocol}//${url.host}`), mirror: true, official: false, tls: this.tlsFor(url.host, secure) });
        }
      }
      out.push({ url: new URL(`https://${DOCKER_HUB_REGISTRY}`), mirror: false, official: true, tls: this.tlsFor(DOCKER_HUB_REGISTRY, true) });
      return out;
    }
    const secure = await this.isSecure(domain);
    const tls = this.tlsFor(domain, secure);
    const out: Endpoint[] = [{ url: new URL(`https://${domain}`), mirror: false, official: false, tls }];
    if (!secure) out.push({ url: new URL(`http://${domain}`), mirror: false, official: false, tls });
    return out;
  }
}
