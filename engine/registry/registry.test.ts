import { describe, expect, it, vi } from 'vitest';
import { BarThrottle } from './progress.js';
import { parseChallenges } from './challenge.js';
import { decodeAuthHeader, authConfigFromJson } from './authconfig.js';
import { parsePlatform, selectManifests, platformMatches, parseManifest, formatPlatform } from './manifest.js';
import { EndpointResolver, parseInsecureRegistries } from './endpoints.js';
import { errorFromResponse, RegistryApiError, translatePullError, describeNetworkError, isRetryable, UnexpectedStatusError } from './errors.js';
import { TokenCache } from './session.js';
import { DynamicSemaphore } from './download.js';
import { splitSearchTerm } from './search.js';
import { RegistryService } from './service.js';
import type { Descriptor } from '../images/oci.js';

describe('progress throttling (moby progress reader)', () => {
  it('throttles bar updates to 1% / 512 KB steps and 100 ms, always showing the end', () => {
    vi.useFakeTimers();
    try {
      const t = new BarThrottle(100_000);
      vi.setSystemTime(1000);
      expect(t.shouldEmit(500)).toBe(false); // under 1%
      expect(t.shouldEmit(2000)).toBe(true);
      expect(t.shouldEmit(4000)).toBe(false); // within 100 ms
      vi.setSystemTime(1200);
      expect(t.shouldEmit(4000)).toBe(true);
      expect(t.shouldEmit(100_000)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('WWW-Authenticate', () => {
  it('parses Bearer and Basic challenges with quoted values', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/x:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/x:pull,push' } },
    ]);
    expect(parseChallenges(['Basic realm="basic-realm"', 'Bearer realm="r",error="insufficient_scope"'])).toEqual([
      { scheme: 'basic', params: { realm: 'basic-realm' } },
      { scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope' } },
    ]);
    expect(parseChallenges('Basic realm="a \\"quoted\\" realm", Bearer realm=x')).toEqual([
      { scheme: 'basic', params: { realm: 'a "quoted" realm' } },
      { scheme: 'bearer', params: { realm: 'x' } },
    ]);
  });
});

describe('X-Registry-Auth', () => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  it('decodes base64url JSON, padded or not, and anonymous e30=', () => {
    expect(decodeAuthHeader('e30=')).toEqual({});
    expect(decodeAuthHeader(enc({ username: 'u', password: 'p?>~', serveraddress: 'h' }))).toEqual({ username: 'u', password: 'p?>~', serveraddress: 'h' });
    expect(decodeAuthHeader(Buffer.from(JSON.stringify({ identitytoken: 'tok' })).toString('base64'))).toEqual({ identitytoken: 'tok' });
    expect(decodeAuthHeader(enc({ Username: 'U', Password: 'P' }))).toEqual({ username: 'U', password: 'P' });
    expect(decodeAuthHeader(enc({ auth: Buffer.from('al:pw:x').toString('base64') }))).toEqual({ username: 'al', password: 'pw:x' });
    expect(decodeAuthHeader(enc({ registrytoken: 'rt' }))).toEqual({ registrytoken: 'rt' });
  });
  it('ignores a malformed header for pulls and rejects it when strict', () => {
    expect(decodeAuthHeader('%%%')).toEqual({});
    expect(() => decodeAuthHeader('%%%', true)).toThrow('invalid X-Registry-Auth header: must be a valid base64url-encoded string');
    expect(() => decodeAuthHeader(Buffer.from('{nope').toString('base64url'), true)).toThrow(/invalid X-Registry-Auth header: invalid JSON/);
    expect(() => authConfigFromJson({ username: 5 })).toThrow(/cannot unmarshal number/);
  });
});

describe('platforms (containerd semantics)', () => {
  it('parses and normalizes specifiers', () => {
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('armhf')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/386')).toEqual({ os: 'linux', architecture: '386' });
    expect(() => parsePlatform('linux/arm64/v8/x')).toThrow();
    expect(() => parsePlatform('bogus')).toThrow('"bogus": unknown operating system or architecture: invalid argument');
    expect(() => parsePlatform('linux/a b')).toThrow(/invalid component/);
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
  });

  const d = (digest: string, platform?: Descriptor['platform']): Descriptor => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1, ...(platform ? { platform } : {}) });
  it('ranks index entries: exact match, compatible fallbacks, unplatformed last; skips attestations', () => {
    const list = [
      d('unknown', { os: 'unknown', architecture: 'unknown' }),
      d('none'),
      d('386', { os: 'linux', architecture: '386' }),
      d('amd64', { os: 'linux', architecture: 'amd64' }),
      d('arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
      d('armv7', { os: 'linux', architecture: 'arm', variant: 'v7' }),
      d('armv6', { os: 'linux', architecture: 'arm', variant: 'v6' }),
      d('win', { os: 'windows', architecture: 'amd64' }),
    ];
    expect(selectManifests(list, { os: 'linux', architecture: 'amd64' }).map((x) => x.digest)).toEqual(['amd64', '386', 'none']);
    expect(selectManifests(list, { os: 'linux', architecture: 'arm64', variant: 'v8' }).map((x) => x.digest)).toEqual(['arm64', 'armv7', 'armv6', 'none']);
    expect(selectManifests(list, { os: 'linux', architecture: 'arm', variant: 'v6' }).map((x) => x.digest)).toEqual(['armv6', 'none']);
    expect(platformMatches({ os: 'linux', architecture: 'aarch64' }, { os: 'linux', architecture: 'arm64' })).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' })).toBe(false);
  });
});

describe('manifests', () => {
  it('recognizes indexes and manifests, with or without mediaType', () => {
    const idx = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: 'sha256:' + 'a'.repeat(64), size: 3, mediaType: 'x' }] })), 'application/vnd.oci.image.index.v1+json');
    expect(idx.kind).toBe('index');
    const m = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'sha256:' + 'b'.repeat(64), size: 2 }, layers: [] })), undefined);
    expect(m.kind).toBe('image');
  });
  it('refuses schema 1 with Docker message, bad digests and unknown formats', () => {
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 1, fsLayers: [] })), 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'docker.io/library/old:1')).toThrow(
      'Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of docker.io/library/old:1 to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/',
    );
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'sha256:../x', size: 2 }, layers: [] })), undefined)).toThrow(/could not validate config digest/);
    expect(() => parseManifest(Buffer.from('{"hello":1}'), 'text/plain')).toThrow('unsupported manifest format');
    expect(() => parseManifest(Buffer.from('not json'), undefined)).toThrow(/invalid manifest/);
  });
});

describe('endpoints', () => {
  const resolver = (mirrors: string[] = [], insecure: string[] = []) => new EndpointResolver(() => ({ registryMirrors: mirrors, insecureRegistries: insecure }));
  it('treats loopback and configured names and CIDRs as insecure', async () => {
    const r = resolver([], ['10.1.0.0/16', 'myreg.example:5000', 'http://other.example:1']);
    expect(await r.isSecure('127.0.0.1:5000')).toBe(false);
    expect(await r.isSecure('[::1]:5000')).toBe(false);
    expect(await r.isSecure('localhost:5000')).toBe(false);
    expect(await r.isSecure('10.1.2.3:5000')).toBe(false);
    expect(await r.isSecure('10.2.0.1')).toBe(true);
    expect(await r.isSecure('myreg.example:5000')).toBe(false);
    expect(await r.isSecure('other.example:1')).toBe(false);
    expect(await r.isSecure('docker.io')).toBe(true);
    expect(() => parseInsecureRegistries(['ftp://x'])).toThrow("insecure registry ftp://x should not contain '://'");
  });
  it('orders Docker Hub mirrors before the hub; secure registries get HTTPS only, insecure ones HTTPS then HTTP', async () => {
    const r = resolver(['http://127.0.0.1:5001/', 'https://mirror.example/']);
    const hub = await r.lookup('docker.io', true);
    expect(hub.map((e) => [e.url.toString(), e.mirror])).toEqual([
      ['http://127.0.0.1:5001/', true],
      ['https://mirror.example/', true],
      ['https://registry-1.docker.io/', false],
    ]);
    expect((await r.lookup('docker.io', false)).map((e) => e.url.host)).toEqual(['registry-1.docker.io']);
    const local = await r.lookup('127.0.0.1:5000', true);
    expect(local.map((e) => e.url.toString())).toEqual(['https://127.0.0.1:5000/', 'http://127.0.0.1:5000/']);
    expect(local[0]!.tls.verify).toBe(false);
    const remote = await r.lookup('10.9.9.9:5000', true);
    expect(remote.map((e) => e.url.toString())).toEqual(['https://10.9.9.9:5000/']);
    expect(remote[0]!.tls.verify).toBe(true);
    expect(remote[0]!.tls.ca?.length).toBeGreaterThan(0);
  });
});

describe('registry errors', () => {
  it('formats errcode bodies like distribution', () => {
    const e = errorFromResponse(404, JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }] }));
    expect(e).toBeInstanceOf(RegistryApiError);
    expect(e.message).toBe('manifest unknown: manifest unknown');
    expect(translatePullError(e, 'busybox', 'busybox:x').message).toBe('manifest for busybox:x not found: manifest unknown: manifest unknown');
    const denied = errorFromResponse(401, JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }), { error: 'insufficient_scope' });
    expect(denied.message).toBe('errors:\ndenied: requested access to the resource is denied\nunauthorized: authentication required\n');
    const t = translatePullError(denied, 'private/x', 'private/x:latest');
    expect(t.message).toBe("pull access denied for private/x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
    expect((t as { status?: number }).status).toBe(404);
    expect(errorFromResponse(401, JSON.stringify({ details: 'incorrect username or password' })).message).toBe('unauthorized: incorrect username or password');
    expect(errorFromResponse(500, 'oops').message).toBe('received unexpected HTTP status: 500 Internal Server Error');
    expect(errorFromResponse(404, '').message).toBe('error parsing HTTP 404 response body: EOF: ""');
    expect(errorFromResponse(401, 'nope').message).toBe('unauthorized: authentication required');
  });
  it('describes network failures in Go words and classifies retries', () => {
    expect(describeNetworkError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), '127.0.0.1:1').reason).toBe('dial tcp 127.0.0.1:1: connect: connection refused');
    expect(describeNetworkError(Object.assign(new Error('x'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), 'h:1')).toEqual({ reason: 'http: server gave HTTP response to HTTPS client', tls: true });
    expect(isRetryable(new UnexpectedStatusError(500, 'Internal Server Error'))).toBe(true);
    expect(isRetryable(new RegistryApiError([{ code: 'DENIED', message: '' }], 403))).toBe(false);
    expect(isRetryable(new RegistryApiError([{ code: 'BLOB_UPLOAD_INVALID', message: '' }], 400))).toBe(true);
  });
});

describe('pull references', () => {
  it('parses fromImage and tag as moby does', () => {
    expect(RegistryService.pullReference('busybox', 'latest').toString()).toBe('docker.io/library/busybox:latest');
    expect(RegistryService.pullReference('busybox:', '').toString()).toBe('docker.io/library/busybox');
    expect(RegistryService.pullReference('busybox:1', '1').toString()).toBe('docker.io/library/busybox:1');
    const dg = 'sha256:' + 'c'.repeat(64);
    expect(RegistryService.pullReference('localhost:5000/a/b', dg).toString()).toBe(`localhost:5000/a/b@${dg}`);
    expect(() => RegistryService.pullReference('scratch', 'latest')).toThrow("'scratch' is a reserved name");
    expect(() => RegistryService.pullReference('busybox', 'bad tag')).toThrow('invalid tag format');
  });
  it('splits search terms into index and name', () => {
    expect(splitSearchTerm('ubuntu')).toEqual(['docker.io', 'ubuntu']);
    expect(splitSearchTerm('user/app')).toEqual(['docker.io', 'user/app']);
    expect(splitSearchTerm('localhost/app')).toEqual(['localhost', 'app']);
    expect(splitSearchTerm('127.0.0.1:5000/a/b')).toEqual(['127.0.0.1:5000', 'a/b']);
  });
});

describe('token cache and semaphore', () => {
  it('drops tokens shortly before they expire', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(0);
      const c = new TokenCache();
      c.set('k', 't', 60_000);
      expect(c.get('k')).toBe('t');
      vi.setSystemTime(54_000);
      expect(c.get('k')).toBe('t');
      vi.setSystemTime(56_000);
      expect(c.get('k')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
  it('limits concurrency to a live setting and lets waiters abort', async () => {
    let limit = 1;
    const s = new DynamicSemaphore(() => limit);
    const r1 = await s.acquire(new AbortController().signal);
    expect(s.available).toBe(false);
    const order: string[] = [];
    const ac = new AbortController();
    const p2 = s.acquire(ac.signal).then(() => order.push('aborted one ran'), () => order.push('aborted'));
    const p3 = s.acquire(new AbortController().signal).then((r) => {
      order.push('third');
      return r;
    });
    ac.abort(new Error('stop'));
    await p2;
    limit = 2;
    r1();
    const r3 = await p3;
    expect(order).toEqual(['aborted', 'third']);
    r3();
    expect(s.available).toBe(true);
  });
});
