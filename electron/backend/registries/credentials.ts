/**
 * Registry credentials kept the docker CLI's way, so `docker login` and Berth
 * share them: `$DOCKER_CONFIG/config.json` (default ~/.docker), its `auths`
 * (base64 user:password), and credential helpers (`credsStore` for all
 * registries, `credHelpers` per registry) run as `docker-credential-<name>`
 * with the protocol's get/store/erase/list verbs. The file is rewritten
 * atomically with mode 0600 and every key Berth does not know is kept.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../../engine/storage/atomic.js';
import type { RegistryAccount } from '../../contract/models.js';
import { BackendError } from '../errors.js';

/** The key the docker CLI uses for Docker Hub. */
export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

export interface AuthConfig {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/** "https://reg:5000/v2/" → "reg:5000" (the CLI's ConvertToHostname). */
export function toHostname(server: string): string {
  return server.replace(/^https?:\/\//, '').split('/')[0]!;
}

/** The registry an image reference lives in, as the config key the CLI would use. */
export function registryOfReference(ref: string): string {
  const first = ref.split('/')[0]!;
  if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return first === 'docker.io' || first === 'index.docker.io' || first === 'registry-1.docker.io' ? DOCKER_HUB_SERVER : first;
  }
  return DOCKER_HUB_SERVER;
}

/** What the user typed ("docker.io", "https://127.0.0.1:5000") → the config key. */
export function normalizeServer(server: string): string {
  const host = toHostname(server.trim());
  if (!host || host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') return DOCKER_HUB_SERVER;
  return host;
}

export function displayName(server: string): string {
  return server === DOCKER_HUB_SERVER ? 'Docker Hub' : toHostname(server);
}

export class CredentialStore {
  readonly file: string;

  constructor(
    readonly dir: string = dockerConfigDir(),
    private readonly helperTimeoutMs = 20_000,
  ) {
    this.file = path.join(dir, 'config.json');
  }

  private read(): ConfigFile {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new BackendError(`cannot read ${this.file}: ${(err as Error).message}`, 500);
    }
    try {
      const v = JSON.parse(text || '{}') as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
      return v as ConfigFile;
    } catch (err) {
      throw new BackendError(`cannot parse ${this.file}: ${(err as Error).message} (fix it, or move it away, before signing in)`, 500);
    }
  }

  private async write(cfg: ConfigFile): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
  }

  /** The helper that holds this server's secret, if any. */
  helperFor(server: string, cfg = this.read()): string | undefined {
    const host = toHostname(server);
    const per = cfg.credHelpers ?? {};
    return per[server] ?? per[host] ?? (cfg.credsStore || undefined);
  }

  async list(): Promise<{ accounts: RegistryAccount[]; credsStore?: string }> {
    const cfg = this.read();
    const accounts = new Map<string, RegistryAccount>();
    for (const [server, entry] of Object.entries(cfg.auths ?? {})) {
      const a: RegistryAccount = { server, display: displayName(server) };
      const user = entry.auth ? decodeAuth(entry.auth)?.username : entry.username;
      if (user) a.username = user;
      accounts.set(server, a);
    }
    // Helpers know accounts config.json may only list by name (credsStore writes an empty entry).
    const helpers = new Set([...(cfg.credsStore ? [cfg.credsStore] : []), ...Object.values(cfg.credHelpers ?? {})]);
    for (const helper of helpers) {
      let listed: Record<string, string>;
      try {
        listed = JSON.parse(await this.runHelper(helper, 'list', '')) as Record<string, string>;
      } catch {
        continue;
      }
      for (const [server, username] of Object.entries(listed)) {
        if (this.helperFor(server, cfg) !== helper) continue;
        accounts.set(server, { server, display: displayName(server), ...(username && username !== '<token>' ? { username } : {}), helper });
      }
    }
    for (const a of accounts.values()) {
      const h = this.helperFor(a.server, cfg);
      if (h) a.helper = h;
    }
    return { accounts: [...accounts.values()].sort((x, y) => x.display.localeCompare(y.display)), ...(cfg.credsStore ? { credsStore: cfg.credsStore } : {}) };
  }

  /** The credentials for a server (undefined when not signed in). */
  async get(server: string): Promise<AuthConfig | undefined> {
    const cfg = this.read();
    const helper = this.helperFor(server, cfg);
    if (helper) {
      try {
        const out = JSON.parse(await this.runHelper(helper, 'get', server)) as { Username?: string; Secret?: string };
        if (!out.Secret) return undefined;
        return out.Username === '<token>' ? { identitytoken: out.Secret, serveraddress: server } : { username: out.Username ?? '', password: out.Secret, serveraddress: server };
      } catch {
        return undefined;
      }
    }
    const auths = cfg.auths ?? {};
    const key = Object.keys(auths).find((k) => k === server || toHostname(k) === toHostname(server));
    const entry = key ? auths[key] : undefined;
    if (!entry) return undefined;
    const decoded = entry.auth ? decodeAuth(entry.auth) : entry.username ? { username: entry.username, password: entry.password ?? '' } : undefined;
    if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: server, ...(decoded?.username ? { username: decoded.username } : {}) };
    return decoded ? { ...decoded, serveraddress: server } : undefined;
  }

  /** Stores what a successful login returned; says where it went. */
  async store(server: string, username: string, secret: { password?: string; identitytoken?: string }): Promise<string> {
    const cfg = this.read();
    const helper = this.helperFor(server, cfg);
    if (helper) {
      await this.runHelper(helper, 'store', JSON.stringify({ ServerURL: server, Username: secret.identitytoken ? '<token>' : username, Secret: secret.identitytoken ?? secret.password ?? '' }));
      // As the CLI does: the server stays listed in config.json without its secret.
      cfg.auths = { ...(cfg.auths ?? {}), [server]: {} };
      await this.write(cfg);
      return `docker-credential-${helper}`;
    }
    const entry: { auth: string; identitytoken?: string } = { auth: Buffer.from(`${username}:${secret.identitytoken ? '' : (secret.password ?? '')}`).toString('base64') };
    if (secret.identitytoken) entry.identitytoken = secret.identitytoken;
    cfg.auths = { ...(cfg.auths ?? {}), [server]: entry };
    await this.write(cfg);
    return this.file;
  }

  async erase(server: string): Promise<boolean> {
    const cfg = this.read();
    const helper = this.helperFor(server, cfg);
    let removed = false;
    if (helper) {
      try {
        await this.runHelper(helper, 'erase', server);
        removed = true;
      } catch {
        // Not stored there.
      }
    }
    const auths = { ...(cfg.auths ?? {}) };
    for (const k of Object.keys(auths)) {
      if (k === server || toHostname(k) === toHostname(server)) {
        delete auths[k];
        removed = true;
      }
    }
    cfg.auths = auths;
    await this.write(cfg);
    return removed;
  }

  private runHelper(helper: string, verb: 'get' | 'store' | 'erase' | 'list', input: string): Promise<string> {
    if (!/^[\w.-]+$/.test(helper)) return Promise.reject(new BackendError(`invalid credential helper name "${helper}" in ${this.file}`, 500));
    const bin = `docker-credential-${helper}`;
    return new Promise((resolve, reject) => {
      const child = spawn(bin, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new BackendError(`${bin} ${verb} did not answer within ${this.helperTimeoutMs / 1000} s`, 504));
      }, this.helperTimeoutMs);
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new BackendError(`${bin} is set in ${this.file} but cannot be run: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is not installed (not on PATH)' : e.message}`, 500));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new BackendError(`${bin} ${verb}: ${(out || err).trim() || `exited with ${code}`}`, 500));
      });
      child.stdin.end(input);
    });
  }
}

function decodeAuth(auth: string): { username: string; password: string } | undefined {
  try {
    const text = Buffer.from(auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i < 0 ? undefined : { username: text.slice(0, i), password: text.slice(i + 1) };
  } catch {
    return undefined;
  }
}
