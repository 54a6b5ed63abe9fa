/**
 * Manifests as registries serve them: OCI image index / Docker manifest list
 * (resolved to one platform, attestation entries skipped) and OCI / Docker v2
 * image manifests. Schema 1 is refused with Docker's message. Platforms are
 * parsed, normalized and ranked like containerd's `platforms` package, which
 * dockerd uses.
 */
import { hostPlatform, MediaTypes, type Descriptor, type Index, type Manifest, type Platform } from '../images/oci.js';
import { InvalidParameterError } from '../errdefs.js';

/** Largest manifest or index berthd reads. */
export const MANIFEST_LIMIT = 4 * 1024 * 1024;
/** Largest image config berthd reads. */
export const CONFIG_LIMIT = 8 * 1024 * 1024;

export const SCHEMA1_TYPES = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];

/** What we ask registries for, in order of preference. */
export const MANIFEST_ACCEPT = [MediaTypes.dockerManifest, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.ociIndex].join(', ');

export type ParsedManifest = { kind: 'image'; mediaType: string; manifest: Manifest } | { kind: 'index'; mediaType: string; index: Index };

export class UnsupportedManifestError extends InvalidParameterError {}

const digestRe = /^sha256:[a-f0-9]{64}$/;

export function schema1Error(refString: string | undefined): InvalidParameterError {
  let msg = 'Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed.';
  if (refString) msg += ` Suggest the author of ${refString} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2.`;
  msg += ' More information at https://docs.docker.com/go/deprecated-image-specs/';
  return new InvalidParameterError(msg);
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  const x = d as Partial<Descriptor> | null;
  if (!x || typeof x !== 'object') throw new InvalidParameterError(`invalid manifest: ${what} is not an object`);
  if (typeof x.digest !== 'string' || !digestRe.test(x.digest)) throw new InvalidParameterError(`could not validate ${what} digest ${JSON.stringify(x.digest)}: invalid or unsupported digest`);
  if (typeof x.size !== 'number' || !Number.isSafeInteger(x.size) || x.size < 0) throw new InvalidParameterError(`invalid manifest: ${what} has an invalid size`);
  if (typeof x.mediaType !== 'string') x.mediaType = '';
  return x as Descriptor;
}

/** Parses a manifest, index or manifest list; contentType is the registry's Content-Type. */
export function parseManifest(raw: Buffer, contentType: string | undefined, refString?: string): ParsedManifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidParameterError(`invalid manifest: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new InvalidParameterError('invalid manifest: not a JSON object');
  const ct = (contentType ?? '').split(';')[0]!.trim();
  const mediaType = typeof json.mediaType === 'string' && json.mediaType !== '' ? json.mediaType : ct;
  if (json.schemaVersion === 1 || SCHEMA1_TYPES.includes(mediaType)) throw schema1Error(refString);
  const isIndex = mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList || (!json.config && Array.isArray(json.manifests));
  const isImage = mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest || (json.config !== undefined && Array.isArray(json.layers));
  if (isIndex && Array.isArray(json.manifests)) {
    const manifests = (json.manifests as unknown[]).map((m, i) => checkDescriptor(m, `manifest ${i}`));
    return { kind: 'index', mediaType: mediaType || MediaTypes.ociIndex, index: { ...(json as object), schemaVersion: 2, manifests } as Index };
  }
  if (isImage && json.config !== undefined && Array.isArray(json.layers)) {
    const config = checkDescriptor(json.config, 'config');
    const layers = (json.layers as unknown[]).map((l, i) => checkDescriptor(l, `layer ${i}`));
    return { kind: 'image', mediaType: mediaType || MediaTypes.ociManifest, manifest: { ...(json as object), schemaVersion: 2, config, layers } as Manifest };
  }
  if (mediaType.toLowerCase().startsWith('application/vnd.docker.ai.')) {
    throw new UnsupportedManifestError('AI models are not yet supported by the Engine, please use "docker model pull/run" instead');
  }
  throw new UnsupportedManifestError('unsupported manifest format');
}

const supportedPrefixes = ['application/vnd.oci.image.', 'application/vnd.docker.'];

/** moby's checkSupportedMediaType: OCI and Docker types only (AI models get their own message). */
export function checkSupportedMediaType(mediaType: string): void {
  const mt = mediaType.toLowerCase();
  if (mt === '') return;
  if (mt.startsWith('application/vnd.docker.ai.')) throw new UnsupportedManifestError('AI models are not yet supported by the Engine, please use "docker model pull/run" instead');
  if (supportedPrefixes.some((p) => mt.startsWith(p)) || mt === 'application/octet-stream') return;
  throw new UnsupportedManifestError(`unsupported media type ${mediaType}`);
}

const configClasses: Record<string, string> = {
  'application/vnd.docker.plugin.v1+json': 'plugin',
  'application/vnd.cncf.helm.config.v1+json': 'helm chart',
  'application/vnd.cncf.helm.chart.content.v1.tar+gzip': 'helm chart',
  'application/vnd.cncf.helm.chart.provenance.v1.prov': 'helm chart',
};

/** Only container image configs can be pulled as images. */
export function checkConfigMediaType(mediaType: string): void {
  if (mediaType === MediaTypes.dockerConfig || mediaType === MediaTypes.ociConfig || mediaType === '') return;
  throw new UnsupportedManifestError(`Encountered remote "${mediaType}"(${configClasses[mediaType] ?? 'unknown'}) when fetching`);
}

// ---- platforms ---------------------------------------------------------

const knownOS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos']);
const knownArch = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le',
  'ppc', 'ppc64', 'ppc64le', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm',
]);

function normalizeArch(arch: string, variant: string): [string, string] {
  arch = arch.toLowerCase();
  variant = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      return ['arm64', variant === '8' || variant === 'v8' || variant === 'v8.0' ? '' : variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '' || variant === '7') return ['arm', 'v7'];
      if (['5', '6', '8'].includes(variant)) return ['arm', `v${variant}`];
      return ['arm', variant];
    default:
      return [arch, variant];
  }
}

export function normalizePlatform(p: Platform): Platform {
  const os = (p.os || 'linux').toLowerCase() === 'macos' ? 'darwin' : (p.os || 'linux').toLowerCase();
  const [architecture, variant] = normalizeArch(p.architecture || hostPlatform().architecture, p.variant ?? '');
  return { os, architecture, ...(variant ? { variant } : {}), ...(p['os.version'] ? { 'os.version': p['os.version'] } : {}) };
}

export function formatPlatform(p: Platform): string {
  const parts = [p.os || 'unknown', p.architecture || 'unknown'];
  if (p.variant) parts.push(p.variant);
  return parts.join('/') + (p['os.version'] ? `(${p['os.version']})` : '');
}

/** containerd's platforms.Parse: "linux", "arm64", "linux/arm/v7". */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split('/');
  for (const part of parts) {
    if (!/^[A-Za-z0-9_.-]+$/.test(part)) {
      throw new InvalidParameterError(`"${part}" is an invalid component of "${spec}": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument`);
    }
  }
  const host = hostPlatform();
  if (parts.length === 1) {
    const s = parts[0]!.toLowerCase();
    if (knownOS.has(s) || s === 'macos') return normalizePlatform({ os: s, architecture: host.architecture, ...(host.variant ? { variant: host.variant } : {}) });
    const [arch] = normalizeArch(s, '');
    if (knownArch.has(arch)) return normalizePlatform({ os: 'linux', architecture: s });
    throw new InvalidParameterError(`"${spec}": unknown operating system or architecture: invalid argument`);
  }
  if (parts.length === 2 || parts.length === 3) {
    const p = normalizePlatform({ os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) });
    if (!knownOS.has(p.os)) throw new InvalidParameterError(`"${spec}": unknown operating system or architecture: invalid argument`);
    return p;
  }
  throw new InvalidParameterError(`"${spec}": cannot parse platform specifier: invalid argument`);
}

/** The platforms an image for `p` may be replaced by, best first (containerd's platformVector). */
export function platformVector(p: Platform): Platform[] {
  const n = normalizePlatform(p);
  const out: Platform[] = [n];
  if (n.architecture === 'amd64') {
    const v = Number((n.variant ?? '').replace(/^v/, ''));
    if (Number.isInteger(v) && v > 1) for (let i = v - 1; i >= 1; i--) out.push({ os: n.os, architecture: 'amd64', ...(i > 1 ? { variant: `v${i}` } : {}) });
    out.push({ os: n.os, architecture: '386' });
  } else if (n.architecture === 'arm') {
    const v = Number((n.variant ?? '').replace(/^v/, ''));
    if (Number.isInteger(v) && v > 5) for (let i = v - 1; i >= 5; i--) out.push({ os: n.os, architecture: 'arm', variant: `v${i}` });
  } else if (n.architecture === 'arm64') {
    out.push(...platformVector({ os: n.os, architecture: 'arm', variant: 'v8' }));
  }
  return out;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

/** Index entries usable on `want`, best match first; entries without a platform come last. */
export function selectManifests(manifests: Descriptor[], want: Platform): Descriptor[] {
  const vector = platformVector(want);
  const rank = (d: Descriptor): number => {
    if (!d.platform) return vector.length;
    const n = normalizePlatform(d.platform);
    return vector.findIndex((v) => samePlatform(v, n));
  };
  return manifests
    .map((d, i) => ({ d, i, r: rank(d) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.d);
}

/** Does an image config's platform satisfy the wanted one? */
export function platformMatches(have: Platform, want: Platform): boolean {
  const n = normalizePlatform(have);
  return platformVector(want).some((v) => samePlatform(v, n));
}
