/**
 * Real registries for the registry tests, all on 127.0.0.1 with random
 * ports: Debian's docker-registry (distribution 2.8) open, behind htpasswd
 * Basic auth, or behind token auth served by TokenServer (JWTs signed with
 * a key whose self-signed certificate the registry trusts); a fault-injecting
 * proxy in front of a registry (drop a connection mid-blob, corrupt a byte,
 * answer 500, serve an oversized manifest) that also logs requests and
 * serves the v1 search API from the registry's catalog; and helpers that
 * build OCI images from Debian packages and push them with skopeo.
 * Every server started here is stopped by its owner's stop().
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { cachedTar, fixtureKey } from './fixture-cache.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitHttp(url: string, timeoutMs = 15_000, ca?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const u = new URL(url);
      const opts = { method: 'GET', timeout: 1000, ...(ca ? { ca, rejectUnauthorized: false } : {}) };
      const onRes = (res: http.IncomingMessage) => {
        res.resume();
        resolve(true);
      };
      const req = u.protocol === 'https:' ? https.request(url, opts, onRes) : http.request(url, opts, onRes);
      req.on('error', () => resolve(false));
      req.on('timeout', () => {
        req.destroy();
        resolve(false);
      });
      req.end();
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await sleep(50);
  }
}

/** A key pair and self-signed certificate (made with openssl) in dir. */
export function makeCertificate(dir: string, cn: string, altNames: string[] = []): { key: string; cert: string; keyPem: string; certPem: string } {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, `${cn}.key`);
  const cert = path.join(dir, `${cn}.crt`);
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`];
  if (altNames.length > 0) args.push('-addext', `subjectAltName=${altNames.join(',')}`);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { key, cert, keyPem: fs.readFileSync(key, 'utf8'), certPem: fs.readFileSync(cert, 'utf8') };
}

export interface RegistryOptions {
  /** htpasswd Basic auth with these users. */
  htpasswd?: Record<string, string>;
  /** Bearer token auth through this token server. */
  token?: TokenServer;
  /** Serve HTTPS with a self-signed certificate. */
  tls?: boolean;
}

/** Debian's docker-registry on 127.0.0.1:<random port>. */
export class Registry {
  log = '';
  private proc: ChildProcess | undefined;
  tlsCert: string | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly scheme: 'http' | 'https',
  ) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `${this.scheme}://${this.host}`;
  }

  static async start(opts: RegistryOptions = {}): Promise<Registry> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-'));
    const port = await freePort();
    const r = new Registry(dir, port, opts.tls ? 'https' : 'http');
    const lines = [
      'version: 0.1',
      'log:',
      '  level: info',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${crypto.randomBytes(16).toString('hex')}`,
    ];
    if (opts.tls) {
      const c = makeCertificate(dir, 'registry', ['IP:127.0.0.1', 'DNS:localhost']);
      r.tlsCert = c.certPem;
      lines.push('  tls:', `    certificate: ${c.cert}`, `    key: ${c.key}`);
    }
    if (opts.htpasswd) {
      const file = path.join(dir, 'htpasswd');
      fs.writeFileSync(file, '');
      for (const [user, pass] of Object.entries(opts.htpasswd)) execFileSync('htpasswd', ['-B', '-b', file, user, pass], { stdio: 'ignore' });
      lines.push('auth:', '  htpasswd:', '    realm: basic-realm', `    path: ${file}`);
    } else if (opts.token) {
      const t = opts.token;
      lines.push('auth:', '  token:', `    realm: ${t.url}/token`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.certFile}`);
    }
    fs.writeFileSync(path.join(dir, 'config.yml'), lines.join('\n') + '\n');
    const proc = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    r.proc = proc;
    const collect = (d: Buffer) => {
      r.log += d.toString();
      if (r.log.length > 1_000_000) r.log = r.log.slice(-500_000);
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    try {
      await waitHttp(`${r.url}/v2/`, 15_000, r.tlsCert);
    } catch (err) {
      await r.stop();
      throw new Error(`docker-registry did not start: ${(err as Error).message}\n${r.log.slice(-2000)}`);
    }
    return r;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((res) => p.once('exit', res));
      p.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- token server ----------------------------------------------------------

export interface TokenRequest {
  method: string;
  account: string | undefined;
  service: string | null;
  scopes: string[];
  grant: string;
  offline: boolean;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * A Docker token server: GET /token with Basic credentials (and the OAuth
 * POST flow with password or refresh_token grants). Authenticated users get
 * what they ask for except push to `readonly/*`; anonymous callers may only
 * pull `public/*`. Tokens are RS256 JWTs with the signing certificate in x5c.
 */
export class TokenServer {
  readonly service = 'berth-test-registry';
  readonly issuer = 'berth-test-issuer';
  readonly requests: TokenRequest[] = [];
  /** Token lifetime in seconds. */
  expiresIn = 300;
  private server: http.Server | undefined;
  private readonly refreshTokens = new Map<string, string>();
  private port = 0;
  private keyPem = '';
  private certDer = Buffer.alloc(0);
  certFile = '';

  constructor(
    private readonly users: Record<string, string>,
    private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-token-')),
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const c = makeCertificate(this.dir, 'token-issuer');
    this.keyPem = c.keyPem;
    this.certFile = c.cert;
    this.certDer = new crypto.X509Certificate(c.certPem).raw;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((r) => this.server!.close(() => r()));
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private grant(account: string | undefined, scope: string): { type: string; name: string; actions: string[] } | undefined {
    const m = /^([a-z]+):(.+):([a-z*,]+)$/.exec(scope);
    if (!m) return undefined;
    const [, type, name, actionList] = m;
    let actions = actionList!.split(',');
    if (account === undefined) actions = type === 'repository' && name!.startsWith('public/') ? actions.filter((a) => a === 'pull') : [];
    else if (name!.startsWith('readonly/')) actions = actions.filter((a) => a === 'pull');
    return { type: type!, name: name!, actions };
  }

  private sign(account: string | undefined, scopes: string[]): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [this.certDer.toString('base64')] };
    const claims = {
      iss: this.issuer,
      sub: account ?? '',
      aud: this.service,
      exp: now + this.expiresIn,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomBytes(8).toString('hex'),
      access: scopes.map((s) => this.grant(account, s)).filter((a) => a !== undefined),
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = crypto.sign('sha256', Buffer.from(input), this.keyPem);
    return `${input}.${b64url(sig)}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const deny = () => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ details: 'incorrect username or password' }));
    };
    if (url.pathname !== '/token') {
      res.writeHead(404);
      res.end();
      return;
    }
    let account: string | undefined;
    let scopes: string[];
    let service: string | null;
    let grant = 'basic';
    let offline = false;
    let refresh: string | undefined;
    if (req.method === 'POST') {
      let body = '';
      for await (const c of req) body += c;
      const form = new URLSearchParams(body);
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      service = form.get('service');
      grant = form.get('grant_type') ?? '';
      if (grant === 'password') {
        const u = form.get('username') ?? '';
        if (this.users[u] !== form.get('password')) return deny();
        account = u;
        offline = form.get('access_type') === 'offline';
      } else if (grant === 'refresh_token') {
        account = this.refreshTokens.get(form.get('refresh_token') ?? '');
        if (!account) return deny();
        refresh = form.get('refresh_token') ?? undefined;
      } else return deny();
    } else {
      scopes = url.searchParams.getAll('scope');
      service = url.searchParams.get('service');
      offline = url.searchParams.get('offline_token') === 'true';
      const authz = req.headers.authorization;
      if (authz?.startsWith('Basic ')) {
        const [u, ...p] = Buffer.from(authz.slice(6), 'base64').toString().split(':');
        if (this.users[u!] !== p.join(':')) return deny();
        account = u;
      }
    }
    this.requests.push({ method: req.method ?? 'GET', account, service, scopes, grant, offline });
    if (service !== this.service) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: 'unknown service' }] }));
      return;
    }
    const token = this.sign(account, scopes);
    const out: Record<string, unknown> = { token, access_token: token, expires_in: this.expiresIn, issued_at: new Date().toISOString() };
    if (account && offline) {
      refresh = crypto.randomBytes(16).toString('hex');
      this.refreshTokens.set(refresh, account);
    }
    if (refresh) out.refresh_token = refresh;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
  }
}

// ---- fault-injecting proxy ---------------------------------------------------

export interface ProxiedRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
}

export type Fault =
  | { kind: 'drop'; digest: string; afterBytes: number; times: number }
  | { kind: 'corrupt'; digest: string; offset: number; times: number }
  | { kind: 'status'; digest: string; status: number; times: number }
  | { kind: 'huge-manifest'; reference: string; times: number }
  /** Sends the blob slowly (chunks of 64 KiB every delayMs). */
  | { kind: 'slow'; digest: string; delayMs: number; times: number };

/**
 * Forwards to a registry, applying faults to blob and manifest responses.
 * Also answers the v1 search API (/v1/_ping, /v1/search) from /v2/_catalog.
 */
export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  faults: Fault[] = [];
  private server: http.Server | undefined;
  port = 0;
  readonly descriptions = new Map<string, string>();

  constructor(private readonly target: string) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  blobGets(digest: string): ProxiedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${digest}`));
  }

  private take(pred: (f: Fault) => boolean): Fault | undefined {
    const f = this.faults.find((x) => x.times > 0 && pred(x));
    if (f) f.times--;
    return f;
  }

  private async search(url: URL, res: http.ServerResponse): Promise<void> {
    const catalog = await new Promise<string[]>((resolve, reject) => {
      http
        .get(`${this.target}/v2/_catalog?n=1000`, (r) => {
          let body = '';
          r.on('data', (c) => (body += c));
          r.on('end', () => resolve((JSON.parse(body) as { repositories?: string[] }).repositories ?? []));
        })
        .on('error', reject);
    });
    const q = url.searchParams.get('q') ?? '';
    const n = Number(url.searchParams.get('n') ?? 25);
    const results = catalog
      .filter((name) => name.includes(q))
      .slice(0, n)
      .map((name) => ({ name, description: this.descriptions.get(name) ?? '', star_count: name.length, is_official: name.startsWith('library/'), is_automated: true }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ query: q, num_results: results.length, results }));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, range: req.headers.range, status: 0 };
    this.requests.push(entry);
    if (url.pathname === '/v1/_ping') {
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    if (url.pathname === '/v1/search') {
      entry.status = 200;
      await this.search(url, res).catch(() => {
        res.writeHead(500);
        res.end();
      });
      return;
    }
    const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname)?.[1];
    const manifestRef = /\/manifests\/([^/]+)$/.exec(url.pathname)?.[1];
    // Corruption applies to blobs and to manifests fetched by digest.
    const content = blob ?? (manifestRef?.startsWith('sha256:') ? manifestRef : undefined);
    if (blob && req.method === 'GET') {
      const f = this.take((x) => x.kind === 'status' && x.digest === blob);
      if (f && f.kind === 'status') {
        entry.status = f.status;
        req.resume();
        res.writeHead(f.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected failure' }] }));
        return;
      }
    }
    if (manifestRef && req.method === 'GET') {
      const f = this.take((x) => x.kind === 'huge-manifest' && x.reference === manifestRef);
      if (f) {
        entry.status = 200;
        const pad = 'x'.repeat(5 * 1024 * 1024);
        const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { pad } }));
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'docker-content-digest': 'sha256:' + crypto.createHash('sha256').update(body).digest('hex'),
          'content-length': body.length,
        });
        res.end(body);
        return;
      }
    }
    const headers = { ...req.headers, host: new URL(this.target).host };
    const upstream = http.request(this.target + (req.url ?? '/'), { method: req.method, headers }, (up) => {
      entry.status = up.statusCode ?? 0;
      const outHeaders = { ...up.headers };
      // Registry redirects and upload locations point at the registry itself; keep them on the proxy.
      for (const h of ['location']) {
        const v = outHeaders[h];
        if (typeof v === 'string') outHeaders[h] = v.replace(this.target, `http://${this.host}`);
      }
      const drop = blob && req.method === 'GET' ? this.take((x) => x.kind === 'drop' && x.digest === blob) : undefined;
      const corrupt = content && req.method === 'GET' && !drop ? this.take((x) => x.kind === 'corrupt' && x.digest === content) : undefined;
      const slow = blob && req.method === 'GET' ? this.take((x) => x.kind === 'slow' && x.digest === blob) : undefined;
      res.writeHead(up.statusCode ?? 502, outHeaders);
      let sent = 0;
      if (slow && slow.kind === 'slow') {
        // Trickle: pause upstream between 64 KiB pieces.
        const pieces: Buffer[] = [];
        let ended = false;
        let timer: NodeJS.Timeout | undefined;
        const pump = () => {
          timer = undefined;
          const next = pieces.shift();
          if (next) {
            res.write(next);
            timer = setTimeout(pump, slow.delayMs);
          } else if (ended) res.end();
          else up.resume();
        };
        up.on('data', (chunk: Buffer) => {
          for (let i = 0; i < chunk.length; i += 65536) pieces.push(chunk.subarray(i, i + 65536));
          up.pause();
          if (!timer) pump();
        });
        up.on('end', () => {
          ended = true;
          if (!timer) pump();
        });
        res.on('close', () => {
          if (timer) clearTimeout(timer);
          up.destroy();
        });
        return;
      }
      up.on('data', (chunk: Buffer) => {
        if (drop && drop.kind === 'drop') {
          const room = drop.afterBytes - sent;
          if (room <= 0) return;
          if (chunk.length >= room) {
            res.write(chunk.subarray(0, room));
            sent += room;
            // Cut the connection mid-body.
            res.socket?.destroy();
            up.destroy();
            return;
          }
        }
        if (corrupt && corrupt.kind === 'corrupt' && sent <= corrupt.offset && corrupt.offset < sent + chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[corrupt.offset - sent] ^= 0xff;
        }
        sent += chunk.length;
        res.write(chunk);
      });
      up.on('end', () => res.end());
      up.on('error', () => res.destroy());
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}

// ---- test images -------------------------------------------------------------

export interface LayerSpec {
  /** Files to put in the layer: path → content (or a directory on disk via `dir`). */
  files?: Record<string, string | Buffer>;
  /** A directory whose contents become the layer. */
  dir?: string;
  /** A tar file used as is. */
  tar?: string;
  compression: 'gzip' | 'zstd' | 'none';
}

export interface OciImageSpec {
  layers: LayerSpec[];
  architecture?: string;
  variant?: string;
  cmd?: string[];
  labels?: Record<string, string>;
  env?: string[];
}

export interface BuiltImage {
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
  diffIDs: string[];
}

function sha256(data: Buffer): string {
  return 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');
}

function tarOf(spec: LayerSpec, work: string): Buffer {
  if (spec.tar) return fs.readFileSync(spec.tar);
  let dir = spec.dir;
  if (!dir) {
    dir = fs.mkdtempSync(path.join(work, 'layer-'));
    for (const [p, content] of Object.entries(spec.files ?? {})) {
      const full = path.join(dir, p);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, content);
    }
  }
  return execFileSync('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1024 * 1024 * 1024 });
}

function compress(tar: Buffer, how: LayerSpec['compression']): Buffer {
  if (how === 'gzip') return zlib.gzipSync(tar, { level: 6 });
  if (how === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1024 * 1024 * 1024 });
  return tar;
}

const layerMediaType = { gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd', none: 'application/vnd.oci.image.layer.v1.tar' };

/** An OCI image layout under dir; returns the index entries it wrote. */
export class OciLayout {
  readonly manifests: Array<{ digest: string; size: number; mediaType: string; platform?: Record<string, string>; annotations?: Record<string, string> }> = [];

  constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  writeBlob(data: Buffer): { digest: string; size: number } {
    const digest = sha256(data);
    fs.writeFileSync(path.join(this.dir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  }

  /** Adds an image manifest; returns its digests. */
  addImage(spec: OciImageSpec): BuiltImage {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-oci-'));
    try {
      const layers: Array<{ mediaType: string; digest: string; size: number }> = [];
      const diffIDs: string[] = [];
      for (const l of spec.layers) {
        const tar = tarOf(l, work);
        diffIDs.push(sha256(tar));
        const blob = this.writeBlob(compress(tar, l.compression));
        layers.push({ mediaType: layerMediaType[l.compression], ...blob });
      }
      const architecture = spec.architecture ?? 'amd64';
      const config = {
        architecture,
        ...(spec.variant ? { variant: spec.variant } : {}),
        os: 'linux',
        created: '2024-01-01T00:00:00Z',
        config: { Cmd: spec.cmd ?? ['sh'], Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...(spec.labels ? { Labels: spec.labels } : {}) },
        rootfs: { type: 'layers', diff_ids: diffIDs },
        history: diffIDs.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'berth e2e' })),
      };
      const cfg = this.writeBlob(Buffer.from(JSON.stringify(config)));
      const manifest = {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
        layers,
      };
      const m = this.writeBlob(Buffer.from(JSON.stringify(manifest)));
      this.manifests.push({ mediaType: manifest.mediaType, ...m, platform: { architecture, os: 'linux', ...(spec.variant ? { variant: spec.variant } : {}) } });
      return { manifestDigest: m.digest, configDigest: cfg.digest, layerDigests: layers.map((l) => l.digest), diffIDs };
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  /** Adds a BuildKit-style attestation manifest for `subject` (platform unknown/unknown). */
  addAttestation(subject: string): void {
    const statement = this.writeBlob(Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: subject.slice(7) } }] })));
    const cfg = this.writeBlob(Buffer.from(JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [] } })));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
      layers: [{ mediaType: 'application/vnd.in-toto+json', ...statement }],
    };
    const m = this.writeBlob(Buffer.from(JSON.stringify(manifest)));
    this.manifests.push({
      mediaType: manifest.mediaType,
      ...m,
      platform: { architecture: 'unknown', os: 'unknown' },
      annotations: { 'vnd.docker.reference.digest': subject, 'vnd.docker.reference.type': 'attestation-manifest' },
    });
  }

  /** Writes index.json with every manifest added (as one multi-platform index tagged `tag`). */
  writeIndex(tag: string, multiPlatform: boolean): void {
    const top = multiPlatform
      ? (() => {
          const inner = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: this.manifests };
          const b = this.writeBlob(Buffer.from(JSON.stringify(inner)));
          return [{ mediaType: inner.mediaType, ...b, annotations: { 'org.opencontainers.image.ref.name': tag } }];
        })()
      : this.manifests.map((m) => ({ ...m, annotations: { ...(m.annotations ?? {}), 'org.opencontainers.image.ref.name': tag } }));
    fs.writeFileSync(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: top }));
  }
}

/** Copies an OCI layout (all platforms) into a registry repository with skopeo. */
export function skopeoPush(layoutDir: string, tag: string, dest: string, creds?: string): void {
  const args = ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), `oci:${layoutDir}:${tag}`, `docker://${dest}`];
  execFileSync('skopeo', args, { stdio: 'pipe', env: { ...process.env, HOME: os.tmpdir() } });
}

/** Reads a manifest straight from a registry (to check what berthd pushed). */
export async function getJson(url: string, accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'): Promise<{ status: number; body: unknown; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { accept } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          let json: unknown = body;
          try {
            json = JSON.parse(body);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: json, headers: res.headers });
        });
      })
      .on('error', reject);
  });
}

/**
 * A Debian root filesystem from mmdebstrap (minbase), built once and cached (keyed by the
 * command line and mmdebstrap's version, validated on reuse: support/fixture-cache.ts). Needs
 * the Debian mirror.
 */
export function debianRootfsTar(): string {
  const args = ['--variant=minbase', '--mode=root', '--format=tar', '--quiet', 'bookworm'];
  const version = execFileSync('mmdebstrap', ['--version'], { encoding: 'utf8' });
  return cachedTar({
    name: 'debian-minbase',
    key: fixtureKey(version, ...args),
    // --format=tar and a .tar name both say "a tar", whatever the name's other dots.
    build: (tmp) => execFileSync('mmdebstrap', [...args, tmp], { stdio: 'pipe', timeout: 600_000 }),
  });
}

// ---- raw API helpers ------------------------------------------------------------

export interface RawApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on berthd's socket, for what the CLI hides (headers, raw JSON lines). */
export function rawApi(d: { socket: string }, method: string, urlPath: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<RawApiResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method, path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export type JsonMessage = Record<string, unknown> & { status?: string; id?: string; progressDetail?: unknown; progress?: string; errorDetail?: { message: string }; error?: string };

export function jsonLines(text: string): JsonMessage[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JsonMessage);
}

/** The messages of each layer (by id), in stream order. */
export function layerSequences(msgs: JsonMessage[]): Map<string, JsonMessage[]> {
  const out = new Map<string, JsonMessage[]>();
  for (const m of msgs) {
    if (!m.id || !/^[a-f0-9]{12}$/.test(m.id)) continue;
    const list = out.get(m.id) ?? [];
    list.push(m);
    out.set(m.id, list);
  }
  return out;
}

/** Base64url JSON for X-Registry-Auth. */
export function registryAuth(auth: Record<string, string>): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64url');
}
