/**
 * Berth's own engine on Linux: a berthd process that Berth starts (detached,
 * so it outlives the app and the CLI), stops (SIGTERM; containers keep
 * running), and watches. A berthd already serving the socket is adopted.
 * The pid file lets `berth engine stop` stop a berthd the app started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { EngineInfo, EngineKind } from '../../contract/models.js';
import { BaseEngine, describeConnectError, versionLabel, withTimeout } from './engine.js';
import { BackendError } from '../errors.js';
import { readDaemonJson } from './daemon-config.js';
import { DAEMON_NODE_FLAGS } from '../../../engine/daemon/node-flags.js';

export interface BerthdEngineOptions {
  id?: string;
  name?: string;
  /** dist/engine/daemon/main.js (or the packaged copy in resources). */
  daemonScript: string;
  /** Node to run it with; in Electron, the app binary with ELECTRON_RUN_AS_NODE. */
  nodeBinary?: string;
  socket: string;
  dataRoot: string;
  execRoot?: string;
  configFile: string;
  logFile: string;
  pidFile: string;
  /** How long start waits for the API (default 30 s). */
  startTimeoutMs?: number;
  /** How long stop waits before SIGKILL (default 20 s). */
  stopTimeoutMs?: number;
}

export class BerthdEngine extends BaseEngine {
  readonly id: string;
  readonly name: string;
  readonly kind: EngineKind = 'berth';
  readonly source: EngineInfo['source'] = 'berth';
  readonly host: string;
  readonly controllable = true;
  readonly configFile: string;
  private child: ChildProcess | undefined;
  private busy: Promise<void> | undefined;

  constructor(private readonly opts: BerthdEngineOptions) {
    super();
    this.id = opts.id ?? 'berth';
    this.name = opts.name ?? 'Berth (local)';
    this.host = `unix://${opts.socket}`;
    this.configFile = opts.configFile;
  }

  protected dockerOptions(): Docker.DockerOptions {
    return { socketPath: this.opts.socket };
  }

  protected override unreachableState() {
    return this.livePid() ? ('error' as const) : ('stopped' as const);
  }

  /** Serializes start/stop so double clicks and the tray cannot interleave them. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = (this.busy ?? Promise.resolve()).then(fn);
    // The queue only orders operations; each caller gets its own outcome.
    const settled: Promise<void> = run.catch(() => undefined);
    this.busy = settled;
    void settled.then(() => {
      if (this.busy === settled) this.busy = undefined;
    });
    return run;
  }

  start(): Promise<void> {
    return this.exclusive(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.exclusive(() => this.doStop());
  }

  override restart(): Promise<void> {
    return this.exclusive(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  private async ping(): Promise<boolean> {
    try {
      const v = await withTimeout(this.client().version(), 3000, 'timeout');
      this.version = versionLabel(v);
      return true;
    } catch {
      return false;
    }
  }

  private async doStart(): Promise<void> {
    if (await this.ping()) {
      this.setState('running');
      return;
    }
    this.setState('starting', undefined, { step: 'Starting berthd', detail: this.host });
    try {
      const args = this.daemonArgs();
      fs.mkdirSync(path.dirname(this.opts.logFile), { recursive: true });
      fs.mkdirSync(path.dirname(this.opts.pidFile), { recursive: true });
      const logFd = fs.openSync(this.opts.logFile, 'a');
      const logStart = fs.fstatSync(logFd).size;
      let child: ChildProcess;
      try {
        child = spawn(this.opts.nodeBinary ?? process.execPath, args, {
          detached: true,
          stdio: ['ignore', logFd, logFd],
          env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        });
      } finally {
        fs.closeSync(logFd);
      }
      this.child = child;
      child.unref();
      const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.once('exit', (code, signal) => this.onChildExit(child, code, signal));
      if (child.pid) fs.writeFileSync(this.opts.pidFile, `${child.pid}\n`);
      const deadline = Date.now() + (this.opts.startTimeoutMs ?? 30_000);
      let attempt = 0;
      for (;;) {
        const early = await Promise.race([exited.then((c) => ({ exit: c })), spawnError.then((e) => ({ error: e })), sleep(Math.min(50 * 2 ** attempt++, 500)).then(() => undefined)]);
        if (early && 'error' in early) throw new BackendError(`could not run berthd: ${early.error.message}`, 500);
        if (early && 'exit' in early) throw new BackendError(`berthd exited with code ${early.exit} while starting: ${this.logSince(logStart).trim().split('\n').slice(-5).join(' | ')}`, 500);
        this.setState('starting', undefined, { step: 'Waiting for the engine API', detail: this.host });
        if (await this.ping()) break;
        if (Date.now() > deadline) throw new BackendError(`berthd did not answer on ${this.host} within ${Math.round((this.opts.startTimeoutMs ?? 30_000) / 1000)} s`, 500);
      }
      this.setState('running');
    } catch (err) {
      this.setState('error', (err as Error).message);
      throw err;
    }
  }

  /** Flags for berthd, leaving out the ones daemon.json sets (berthd refuses a key given both ways). */
  daemonArgs(): string[] {
    if (!fs.existsSync(this.opts.configFile)) {
      fs.mkdirSync(path.dirname(this.opts.configFile), { recursive: true });
      fs.writeFileSync(this.opts.configFile, '{}\n', { mode: 0o644 });
    }
    const file = readDaemonJson(this.opts.configFile);
    if (Array.isArray(file.hosts) && !file.hosts.includes(this.host)) {
      throw new BackendError(`${this.opts.configFile} sets "hosts" to ${JSON.stringify(file.hosts)}, which does not include ${this.host}`, 500);
    }
    const args = [...DAEMON_NODE_FLAGS, this.opts.daemonScript, '--config-file', this.opts.configFile];
    if (file['data-root'] === undefined) args.push('--data-root', this.opts.dataRoot);
    if (file['exec-root'] === undefined && this.opts.execRoot) args.push('--exec-root', this.opts.execRoot);
    if (file.hosts === undefined) args.push('-H', this.host);
    return args;
  }

  private onChildExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.removePidFile(child.pid);
    if (this.currentState === 'stopping' || this.currentState === 'starting') return;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    this.setState(code === 0 ? 'stopped' : 'error', code === 0 ? undefined : `berthd ${how}; see ${this.opts.logFile}`);
  }

  private removePidFile(pid: number | undefined): void {
    try {
      if (pid === undefined || fs.readFileSync(this.opts.pidFile, 'utf8').trim() === String(pid)) fs.rmSync(this.opts.pidFile, { force: true });
    } catch {
      // Already gone.
    }
  }

  /** The berthd Berth started, if it is still alive (checked against /proc so a reused pid is not mistaken for it). */
  livePid(): number | undefined {
    if (this.child?.pid && this.child.exitCode === null) return this.child.pid;
    let pid: number;
    try {
      pid = Number(fs.readFileSync(this.opts.pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes(path.basename(this.opts.daemonScript)) ? pid : undefined;
    } catch {
      return process.platform === 'linux' ? undefined : isAlive(pid) ? pid : undefined;
    }
  }

  private async doStop(): Promise<void> {
    const pid = this.livePid();
    if (!pid) {
      if (await this.ping()) {
        const msg = `the berthd on ${this.host} was not started by Berth (no pid file in ${path.dirname(this.opts.pidFile)}); stop it where it was started`;
        throw new BackendError(msg, 409);
      }
      this.setState('stopped');
      return;
    }
    this.setState('stopping', undefined, { step: 'Stopping berthd', detail: 'containers keep running' });
    try {
      process.kill(pid, 'SIGTERM');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') {
        this.setState('error', `cannot stop berthd (pid ${pid}): ${(err as Error).message}`);
        throw err;
      }
    }
    const deadline = Date.now() + (this.opts.stopTimeoutMs ?? 20_000);
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
    }
    this.removePidFile(pid);
    this.setState('stopped');
  }

  override async probe() {
    if (this.currentState === 'starting' || this.currentState === 'stopping') return this.currentState;
    if (await this.ping()) this.setState('running');
    else {
      const alive = this.livePid();
      this.setState(alive ? 'error' : 'stopped', alive ? `berthd (pid ${alive}) is running but ${describeConnectError({ code: 'ECONNREFUSED' }, this.host)}` : undefined);
    }
    return this.currentState;
  }

  override async readLogs(tail: number): Promise<{ text: string; file?: string }> {
    let text = '';
    try {
      text = await tailFile(this.opts.logFile, tail);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // Adopted: a berthd Berth did not start serves the socket; its output is not in our file.
    if (this.currentState === 'running' && !this.livePid()) {
      const note = `Berth did not start the berthd that serves ${this.host} (it was already running), so its output is wherever it was started (for the system service: journalctl -u berth).`;
      return { text: text ? `${note}\n--- the last berthd Berth started wrote: ---\n${text}` : '', file: this.opts.logFile };
    }
    return { text, file: this.opts.logFile };
  }

  override async reloadConfig(): Promise<'reloaded' | 'restart-required'> {
    const pid = this.livePid();
    if (!pid) return 'restart-required';
    process.kill(pid, 'SIGHUP');
    return 'reloaded';
  }

  /** Removes every container, stops berthd, deletes its data root, and starts it again. */
  override async resetData(): Promise<void> {
    await this.exclusive(async () => {
      if (await this.ping()) {
        const docker = this.client();
        const all = await docker.listContainers({ all: true });
        for (const c of all) await docker.getContainer(c.Id).remove({ force: true, v: true });
      }
      await this.doStop();
      const file = readDaemonJson(this.opts.configFile);
      const dataRoot = typeof file['data-root'] === 'string' ? file['data-root'] : this.opts.dataRoot;
      if (path.resolve(dataRoot) === '/') throw new BackendError('refusing to delete "/" as the data root', 500);
      await fsp.rm(dataRoot, { recursive: true, force: true });
      await this.doStart();
    });
  }

  private logSince(offset: number): string {
    try {
      const fd = fs.openSync(this.opts.logFile, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const start = Math.max(offset, size - 16_384);
        const buf = Buffer.alloc(size - start);
        fs.readSync(fd, buf, 0, buf.length, start);
        return buf.toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return '';
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last `lines` lines of a file, reading backwards in blocks (logs can be large). */
export async function tailFile(file: string, lines: number): Promise<string> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const block = 64 * 1024;
    let pos = size;
    let chunks: Buffer[] = [];
    let newlines = 0;
    while (pos > 0 && newlines <= lines) {
      const len = Math.min(block, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      for (const b of buf) if (b === 10) newlines++;
      chunks = [buf, ...chunks];
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n') + (all.length ? '\n' : '');
  } finally {
    await fh.close();
  }
}
