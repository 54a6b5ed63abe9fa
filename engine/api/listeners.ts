/**
 * The sockets the Engine API is served on, made the way dockerd makes them:
 *
 *  - unix:// — owned by root and the socket group (`-G/--group`, daemon.json `group`; default
 *    `berth` when that group exists, else root), mode 0660 *from the moment it exists*: it is bound
 *    inside a fresh 0700 directory, given its owner and mode there, and only then renamed into
 *    place, so no client can ever connect through a umask-wide window.
 *  - tcp:// — plain HTTP only where asked for (with dockerd's loud warning off loopback), or TLS
 *    (`--tls`), or mutual TLS (`--tlsverify`: a client certificate signed by `--tlscacert` is
 *    required; anything else, plain HTTP included, is refused during the handshake).
 *  - every listener gets the kernel's somaxconn as its backlog (Go's net.Listen does the same), not
 *    Node's 511: a burst of a thousand CLI invocations must not meet EAGAIN.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Logger } from '../daemon/log.js';

export const DEFAULT_SOCKET_GROUP = 'berth';
/** dockerd's default TCP port with TLS, and without. */
export const TLS_PORT = 2376;
export const PLAIN_PORT = 2375;

/** The kernel's accept-queue cap, which the listen backlog is clamped to anyway. */
export function somaxconn(): number {
  try {
    const n = Number(fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    if (Number.isInteger(n) && n > 0) return n;
  } catch {
    /* not Linux */
  }
  return 4096;
}

export class ListenerError extends Error {}

/** A group's ID from the host's group database, by name or number; undefined if there is none. */
export function lookupGroup(name: string, groupFile = '/etc/group'): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = fs.readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] === name && /^\d+$/.test(f[2]!)) return Number(f[2]);
  }
  return undefined;
}

/**
 * The socket's group, as dockerd decides it: the default group is used if it exists (a warning
 * otherwise, and root); a group asked for explicitly must exist; "" means root.
 */
export function socketGid(group: string | undefined, log: Logger, groupFile?: string): number {
  const name = group ?? DEFAULT_SOCKET_GROUP;
  if (name === '') return 0;
  const gid = lookupGroup(name, groupFile);
  if (gid !== undefined) return gid;
  if (group !== undefined && group !== DEFAULT_SOCKET_GROUP) throw new ListenerError(`group ${name} not found: unable to find group ${name}: no matching entries in group file`);
  log.debug(`socket group ${name} not found; the API socket belongs to group root`);
  return 0;
}

function listening(server: net.Server, bind: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    bind();
  });
}

/**
 * Listens on a unix socket that appears at `sock` already owned root:gid with `mode`. The old
 * socket (a stale one from a crash) is replaced by the rename in one step.
 */
export async function listenUnix(server: net.Server, sock: string, opts: { gid: number; mode?: number; backlog: number }): Promise<void> {
  const mode = opts.mode ?? 0o660;
  const dir = path.dirname(sock);
  fs.mkdirSync(dir, { recursive: true });
  const stage = path.join(dir, `.berthd-${randomBytes(4).toString('hex')}`);
  const staged = path.join(stage, 's');
  if (Buffer.byteLength(staged) > 107) {
    // No room for the staging name (the path is near the 108-byte limit): fall back to a umask around
    // bind, as dockerd does. bind(2) runs synchronously inside listen(), so the window is this call.
    removeStale(sock);
    const old = process.umask(0o777 & ~mode);
    try {
      await listening(server, () => server.listen({ path: sock, backlog: opts.backlog }));
    } finally {
      process.umask(old);
    }
    fs.chownSync(sock, 0, opts.gid);
    fs.chmodSync(sock, mode);
    return;
  }
  fs.mkdirSync(stage, { mode: 0o700 });
  try {
    await listening(server, () => server.listen({ path: staged, backlog: opts.backlog }));
    fs.chownSync(staged, 0, opts.gid);
    fs.chmodSync(staged, mode);
    fs.renameSync(staged, sock);
  } catch (err) {
    if (server.listening) server.close();
    throw err;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  // libuv unlinks the name it bound (the staged one) on close; the real name is ours to remove.
  server.once('close', () => {
    try {
      fs.unlinkSync(sock);
    } catch {
      /* already gone */
    }
  });
}

function removeStale(sock: string): void {
  try {
    fs.unlinkSync(sock);
  } catch {
    /* not there */
  }
}

export interface TcpAddress {
  host: string;
  port: number;
}

/** Parses tcp://host:port the way dockerd does (default host 127.0.0.1... unless empty means all). */
export function parseTcpHost(addr: string, tls: boolean): TcpAddress {
  let url: URL;
  try {
    url = new URL(addr);
  } catch {
    throw new ListenerError(`invalid bind address: ${addr}`);
  }
  if (url.pathname !== '' && url.pathname !== '/') throw new ListenerError(`invalid bind address (${addr}): should not contain a path element`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  const port = url.port ? Number(url.port) : tls ? TLS_PORT : PLAIN_PORT;
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1';
  return false;
}

export async function listenTcp(server: net.Server, addr: TcpAddress, backlog: number): Promise<void> {
  await listening(server, () => server.listen({ host: addr.host, port: addr.port, backlog }));
}

export interface TlsFiles {
  /** --tlsverify: clients must present a certificate signed by the CA. */
  verify: boolean;
  cacert: string;
  cert: string;
  key: string;
}

export interface TlsMaterial {
  ca?: Buffer;
  cert: Buffer;
  key: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** Reads the daemon's certificate, key and (with --tlsverify) CA, with dockerd's kind of errors. */
export function loadTls(files: TlsFiles): TlsMaterial {
  const read = (what: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new ListenerError(`could not load ${what} "${file}": ${(err as Error).message}`);
    }
  };
  const cert = read('X509 key pair: certificate', files.cert);
  const key = read('X509 key pair: key', files.key);
  const ca = files.verify ? read('CA certificate', files.cacert) : undefined;
  return { ...(ca ? { ca } : {}), cert, key, requestCert: files.verify, rejectUnauthorized: files.verify };
}

/**
 * dockerd 20.10's warnings for an API reachable over TCP without client authentication (it also
 * sleeps 15 s off loopback to make them seen; berthd does not hold its start for that).
 * `verifyExplicitlyOff`: --tls=false or --tlsverify=false was given, dockerd's "I know".
 */
export function plainTcpWarnings(host: string, verifyExplicitlyOff: boolean): string[] {
  const out = [
    'Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.',
    'Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!',
  ];
  if (!verifyExplicitlyOff && !isLoopback(host)) {
    out.push(
      'Binding to an IP address without --tlsverify is deprecated and exposes unauthenticated root access to your network',
      'Please consider generating tls certificates with client validation to prevent exposing unauthenticated root access to your network',
      "You can override this by explicitly specifying '--tls=false' or '--tlsverify=false'",
    );
  }
  return out;
}

/** Where dockerd looks for certificates by default: $DOCKER_CERT_PATH, else ~/.docker. */
export function defaultCertDir(): string {
  return process.env.DOCKER_CERT_PATH || path.join(os.homedir(), '.docker');
}

export type AnyServer = http.Server;
