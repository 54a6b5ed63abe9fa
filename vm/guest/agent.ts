/**
 * The guest agent: the one process the host talks to. It serves HTTP/2 on the virtio-serial port
 * (guest/port.ts) with the routes of channel/protocol.ts — tunnels to berthd's unix socket (and,
 * for part 2, to published ports), a root shell on a pty, the clock and resolver the host pushes,
 * info, berthd's log, and shutdown — runs berthd (guest/engine.ts), and powers the VM off cleanly
 * when QMP presses the power button. Started by stage 2's init under dumb-init (PID 1).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import { promisify } from 'node:util';
import { AGENT_PORT_NAME, GUEST_PORT_PUBLISHER_SOCKET, HEADERS, ROUTES } from '../channel/protocol.js';
import { connect } from './connect.js';
import { datagram } from './datagram.js';
import { ENGINE_LOG, GUEST_DATA, GuestEngine } from './engine.js';
import { BindsWatch } from './binds-watch.js';
import { bindSources, replayChanges } from './fs-events.js';
import { linkEngineSocket, mountShares, writeEngineSharedPaths } from './shares.js';
import { servePort } from './port.js';
import { GuestPorts } from './ports.js';
import { watchPowerButton } from './power-button.js';
import { spawnPty, type Pty } from './pty.js';

const execFileAsync = promisify(execFile);
/** QEMU's user-mode network forwards DNS here to the host's resolver. */
const SLIRP_DNS = '10.0.2.3';

const log = (m: string) => {
  try {
    fs.writeFileSync('/dev/console', `berth-agent: ${m}\n`);
  } catch {
    process.stderr.write(`berth-agent: ${m}\n`);
  }
};
const uptime = () => os.uptime().toFixed(2);

const engine = new GuestEngine(log);
const ports = new GuestPorts(log);
const shells = new Map<string, Pty>();
let shellSeq = 0;
let shuttingDown = false;
/** Host folders mounted in the guest (guest/shares.ts). */
let shares: string[] = [];
/** The bind sources the host watches, followed from berthd's events (started once berthd answers). */
const binds = new BindsWatch({ list: () => bindSources(shares), log });
/** The longest a host's /v1/binds?after= waits for a change. */
const BINDS_MAX_WAIT_MS = 60_000;

function reply(stream: http2.ServerHttp2Stream, status: number, body: unknown): void {
  if (stream.destroyed || stream.headersSent) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  stream.respond({ ':status': status, 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  stream.end(text);
}

function readBody(stream: http2.ServerHttp2Stream, limit = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    stream.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      else chunks.push(c);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}

async function shell(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
  const rows = Number(headers[HEADERS.rows]) || 24;
  const cols = Number(headers[HEADERS.cols]) || 80;
  let pty: Pty;
  try {
    pty = await spawnPty(['/bin/bash', '-l'], {
      rows,
      cols,
      cwd: '/root',
      env: { TERM: String(headers['berth-term'] ?? 'xterm-256color'), HOME: '/root', USER: 'root', SHELL: '/bin/bash', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
  } catch (err) {
    return reply(stream, 500, `cannot start a shell: ${(err as Error).message}`);
  }
  const id = String(++shellSeq);
  shells.set(id, pty);
  stream.respond({ ':status': 200, [HEADERS.shellId]: id }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'berth-exit-code': String(pty.child.exitCode ?? 255) }));
  stream.pipe(pty.io);
  pty.io.on('data', (d: Buffer) => {
    if (!stream.destroyed && !stream.write(d)) {
      pty.io.pause();
      stream.once('drain', () => pty.io.resume());
    }
  });
  // Reading the master fails with EIO once the shell and its children closed the terminal.
  pty.io.on('error', () => undefined);
  const finish = () => {
    shells.delete(id);
    if (!stream.destroyed) stream.end();
  };
  pty.child.once('exit', () => setTimeout(finish, 50));
  stream.once('close', () => {
    shells.delete(id);
    if (pty.child.exitCode === null) pty.child.kill('SIGHUP');
    pty.io.destroy();
  });
}

async function setTime(body: string): Promise<string> {
  const { unixMs } = JSON.parse(body) as { unixMs?: unknown };
  if (typeof unixMs !== 'number' || !Number.isFinite(unixMs)) throw new Error('unixMs must be a number');
  const before = Date.now();
  await execFileAsync('date', ['-u', '-s', `@${(unixMs / 1000).toFixed(3)}`]);
  return JSON.stringify({ offsetMs: unixMs - before });
}

function setDns(body: string): void {
  const { search, options } = JSON.parse(body) as { search?: unknown; options?: unknown };
  const words = (v: unknown) => (Array.isArray(v) ? v.filter((w): w is string => typeof w === 'string' && /^[\w.:-]+$/.test(w)) : []);
  const lines = [`nameserver ${SLIRP_DNS}`];
  if (words(search).length) lines.push(`search ${words(search).join(' ')}`);
  if (words(options).length) lines.push(`options ${words(options).join(' ')}`);
  fs.writeFileSync('/etc/resolv.conf.tmp', lines.join('\n') + '\n');
  fs.renameSync('/etc/resolv.conf.tmp', '/etc/resolv.conf');
}

function info(): unknown {
  const mem = Object.fromEntries(
    fs
      .readFileSync('/proc/meminfo', 'utf8')
      .split('\n')
      .map((l) => /^(\w+):\s+(\d+)/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1], Number(m[2]) * 1024]),
  ) as Record<string, number>;
  return {
    kernel: os.release(),
    arch: os.arch(),
    uptimeSeconds: os.uptime(),
    cpus: os.cpus().length,
    memory: { total: mem.MemTotal, available: mem.MemAvailable },
    engine: engine.state,
    loadavg: os.loadavg(),
    clock: Date.now(),
  };
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    const { stdout } = await execFileAsync('tail', ['-n', String(lines), file], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch {
    return '';
  }
}

async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log('shutting down');
  await engine.stop(10_000);
  // Everything else (containers, conmon): TERM, a moment, KILL — then the data disk can go read-only.
  try {
    process.kill(-1, 'SIGTERM');
  } catch {
    // Nothing else runs.
  }
  await new Promise((r) => setTimeout(r, 1500));
  try {
    process.kill(-1, 'SIGKILL');
  } catch {
    // Nothing else runs.
  }
  await execFileAsync('sync').catch(() => undefined);
  await execFileAsync('mount', ['-o', 'remount,ro', '/var/lib/berth']).catch((err: Error) => log(`remount read-only: ${err.message}`));
  log('power off');
  await execFileAsync('busybox', ['poweroff', '-f']);
}

function onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const url = new URL(String(headers[':path'] ?? '/'), 'http://agent');
  const method = headers[':method'];
  stream.on('error', () => undefined);
  const fail = (err: unknown) => reply(stream, 500, (err as Error).message ?? String(err));
  switch (url.pathname) {
    case ROUTES.connect:
      return connect(stream, headers);
    case ROUTES.datagram:
      return datagram(stream, headers);
    case ROUTES.ports:
      return ports.attachHost(stream);
    case ROUTES.shell:
      return void shell(stream, headers).catch(fail);
    case ROUTES.shellResize: {
      const pty = shells.get(String(headers[HEADERS.shellId] ?? ''));
      if (!pty) return reply(stream, 404, 'no such shell');
      pty.resize(Number(headers[HEADERS.rows]) || 24, Number(headers[HEADERS.cols]) || 80);
      return reply(stream, 200, { ok: true });
    }
    case ROUTES.time:
      return void readBody(stream).then(setTime).then((r) => reply(stream, 200, r), fail);
    case ROUTES.dns:
      return void readBody(stream)
        .then(setDns)
        .then(() => reply(stream, 200, { ok: true }), fail);
    case ROUTES.info:
      return reply(stream, 200, info());
    case ROUTES.engineLog:
      return void tail(ENGINE_LOG, Math.min(Number(url.searchParams.get('tail')) || 100, 100_000)).then((t) => reply(stream, 200, t), fail);
    case ROUTES.binds: {
      // ?after=<version>&waitMs=<ms>: a long poll, answered when the list changes (or at once).
      const after = url.searchParams.get('after');
      const waitMs = Math.min(Number(url.searchParams.get('waitMs')) || 0, BINDS_MAX_WAIT_MS);
      return void binds.wait(after === null ? undefined : Number(after), waitMs).then((b) => reply(stream, 200, { shares, binds: b.binds, version: b.version }), fail);
    }
    case ROUTES.fsEvents:
      if (method !== 'POST') return reply(stream, 405, 'POST only');
      return void readBody(stream)
        .then((b) => replayChanges((JSON.parse(b) as { paths?: unknown }).paths, shares))
        .then((touched) => reply(stream, 200, { touched }), fail);
    case ROUTES.trim:
      if (method !== 'POST') return reply(stream, 405, 'POST only');
      return void execFileAsync('fstrim', ['-v', GUEST_DATA]).then((r) => reply(stream, 200, { output: r.stdout.trim() }), fail);
    case ROUTES.shutdown:
      if (method !== 'POST') return reply(stream, 405, 'POST only');
      reply(stream, 202, { ok: true });
      return void shutdown().catch((err: Error) => log(`shutdown: ${err.message}`));
    default:
      return reply(stream, 404, `no route ${url.pathname}`);
  }
}

log(`started ${uptime()}`);
process.on('SIGTERM', () => void shutdown());
watchPowerButton(() => void shutdown(), log);
// berthd's port-publishing hook needs the socket before its first start (restart policies), and
// the shared folders are mounted and berthd told about them before it starts (restarted
// containers may bind them).
// (A promise chain, not top-level await: the agent is bundled as CommonJS.)
void ports
  .listen(GUEST_PORT_PUBLISHER_SOCKET)
  .catch((err: Error) => log(`ports: ${err.message}`))
  .then(() => mountShares(fs.readFileSync('/proc/cmdline', 'utf8'), log)
  .catch((err: Error) => (log(`shared folders: ${err.message}`), [] as string[])))
  .then((m) => {
    shares = m;
    writeEngineSharedPaths(`${GUEST_DATA}/daemon.json`, m);
    linkEngineSocket();
  })
  .catch((err: Error) => log(`engine configuration: ${err.message}`))
  .finally(() => engine.start());
void engine.ready().then(() => {
  log(`engine-ready ${uptime()}`);
  binds.start();
  // The launcher (launch.ts) caches the agent's compiled code once its start-up code has run.
  (process as NodeJS.EventEmitter).emit('berth:ready');
});
void servePort({ portName: AGENT_PORT_NAME, onStream, log });
