/**
 * Finds Docker endpoints the way the docker CLI does: DOCKER_HOST (with
 * DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), the contexts stored under
 * $DOCKER_CONFIG/contexts (meta.json + TLS material), and the default
 * context's socket when it exists.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  verify: boolean;
}

export interface DiscoveredEndpoint {
  id: string;
  name: string;
  host: string;
  source: 'env' | 'context';
  tls?: TlsFiles;
  /** The context the docker CLI would use right now. */
  current: boolean;
}

export interface DiscoveryEnv {
  env: NodeJS.ProcessEnv;
  home: string;
}

const DEFAULT_UNIX_SOCKET = '/var/run/docker.sock';

export function dockerConfigDir({ env, home }: DiscoveryEnv): string {
  return env.DOCKER_CONFIG || path.join(home, '.docker');
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function tlsFromDir(dir: string, verify: boolean): TlsFiles | undefined {
  const pick = (f: string) => (fs.existsSync(path.join(dir, f)) ? path.join(dir, f) : undefined);
  const tls: TlsFiles = { verify };
  const ca = pick('ca.pem');
  const cert = pick('cert.pem');
  const key = pick('key.pem');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  return ca || cert || key ? tls : undefined;
}

/** The name the docker CLI resolves: DOCKER_CONTEXT, then config.json's currentContext, else "default". */
export function currentContextName(d: DiscoveryEnv): string {
  if (d.env.DOCKER_CONTEXT) return d.env.DOCKER_CONTEXT;
  const cfg = readJson(path.join(dockerConfigDir(d), 'config.json')) as { currentContext?: unknown } | undefined;
  return typeof cfg?.currentContext === 'string' && cfg.currentContext ? cfg.currentContext : 'default';
}

export function contextId(name: string): string {
  return `context-${name.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
}

export function discoverEndpoints(d: DiscoveryEnv = { env: process.env, home: os.homedir() }): DiscoveredEndpoint[] {
  const found: DiscoveredEndpoint[] = [];
  const current = currentContextName(d);
  const dockerHost = d.env.DOCKER_HOST;
  if (dockerHost) {
    const e: DiscoveredEndpoint = { id: 'env-docker-host', name: 'DOCKER_HOST', host: dockerHost, source: 'env', current: true };
    const verify = !!d.env.DOCKER_TLS_VERIFY && d.env.DOCKER_TLS_VERIFY !== '0';
    if (/^(tcp|https):/.test(dockerHost) && (verify || d.env.DOCKER_CERT_PATH)) {
      const tls = tlsFromDir(d.env.DOCKER_CERT_PATH || dockerConfigDir(d), verify);
      if (tls) e.tls = tls;
    }
    found.push(e);
  }
  const metaRoot = path.join(dockerConfigDir(d), 'contexts', 'meta');
  let dirs: string[] = [];
  try {
    dirs = fs.readdirSync(metaRoot);
  } catch {
    // No contexts created yet.
  }
  for (const dir of dirs.sort()) {
    const meta = readJson(path.join(metaRoot, dir, 'meta.json')) as { Name?: unknown; Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } } | undefined;
    const name = typeof meta?.Name === 'string' ? meta.Name : undefined;
    const host = meta?.Endpoints?.docker?.Host;
    if (!name || typeof host !== 'string' || !host) continue;
    // The CLI names the folder after the sha256 of the context name; skip strays.
    if (createHash('sha256').update(name).digest('hex') !== dir) continue;
    const e: DiscoveredEndpoint = { id: contextId(name), name: `context ${name}`, host, source: 'context', current: !dockerHost && name === current };
    const tls = tlsFromDir(path.join(dockerConfigDir(d), 'contexts', 'tls', dir, 'docker'), meta?.Endpoints?.docker?.SkipTLSVerify !== true);
    if (tls) e.tls = tls;
    found.push(e);
  }
  if (!dockerHost && fs.existsSync(DEFAULT_UNIX_SOCKET)) {
    found.push({ id: contextId('default'), name: 'context default', host: `unix://${DEFAULT_UNIX_SOCKET}`, source: 'context', current: current === 'default' });
  }
  return found;
}
