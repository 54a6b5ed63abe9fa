/**
 * The per-container monitor: conmon. It double-forks away from berthd, runs
 * `runc create` (or `runc exec`), holds the container's stdio (pty or pipes),
 * writes the log file, serves the attach socket, and writes the exit code to
 * a file when the process ends — so containers outlive the daemon.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { SystemError } from '../errdefs.js';
import { processStartTime } from '../system/proc.js';
import type { Runc } from './runc.js';

export interface MonitorOptions {
  conmonPath: string;
  runtime: Runc;
  /** runc container ID. */
  containerId: string;
  /** Session ID: the container ID, or the exec ID for exec sessions. */
  sessionId: string;
  /** Directory holding config.json (containers) and the attach socket and ctl FIFO. */
  bundle: string;
  terminal: boolean;
  stdin: boolean;
  leaveStdinOpen: boolean;
  logPath: string;
  logSizeMax?: number;
  exitDir: string;
  persistDir: string;
  pidFile: string;
  monitorPidFile: string;
  /** For exec sessions: the OCI process spec file. */
  execProcessSpec?: string;
  /** Called once the monitor process exists (runc create is under way). */
  onSpawned?: () => void;
}

export interface Launched {
  /** Host PID of the container (or exec) process. */
  pid: number;
  monitorPid: number;
  monitorStartTime: string;
  /** Exec sessions: resolves with the exit code reported on the sync pipe. */
  exitCode?: Promise<number>;
}

/** A failure reported by the runtime while creating the process (exit code mapping like Docker's). */
export class RuntimeStartError extends SystemError {
  readonly exitCode: number;
  constructor(message: string) {
    super(message);
    this.exitCode = /executable file not found|no such file or directory/i.test(message) ? 127 : /permission denied/i.test(message) ? 126 : 128;
  }
}

interface SyncMessage {
  data: number;
  message?: string;
}

/** Splits the sync pipe into JSON messages. */
function syncMessages(stream: Readable): AsyncGenerator<SyncMessage> {
  return (async function* () {
    let buf = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        yield JSON.parse(line) as SyncMessage;
      }
    }
  })();
}

/** Cleans runc's error text into the message Docker users recognise. */
function runtimeMessage(raw: string): string {
  const lines = raw
    .split('\n')
    .map((l) => {
      const m = /msg="((?:[^"\\]|\\.)*)"/.exec(l);
      return m ? m[1]!.replace(/\\"/g, '"') : l.trim();
    })
    .filter(Boolean);
  return lines[lines.length - 1] ?? raw.trim();
}

export async function launchMonitor(o: MonitorOptions): Promise<Launched> {
  const args = [
    '--api-version', '1',
    '-c', o.containerId,
    '-u', o.sessionId,
    '-r', o.runtime.binary,
    '-b', o.bundle,
    '-p', o.pidFile,
    '-P', o.monitorPidFile,
    '-l', `k8s-file:${o.logPath}`,
    '--exit-dir', o.exitDir,
    '--persist-dir', o.persistDir,
    '--socket-dir-path', o.bundle,
    '--full-attach',
    '--log-level', 'warning',
  ];
  for (const a of o.runtime.globalArgs()) args.push('--runtime-arg', a);
  if (o.terminal) args.push('-t');
  if (o.stdin) args.push('-i');
  if (o.leaveStdinOpen) args.push('--leave-stdin-open');
  if (o.logSizeMax !== undefined && o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax));
  if (o.execProcessSpec) args.push('-e', '--exec-process-spec', o.execProcessSpec);

  const child = spawn(o.conmonPath, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' },
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  o.onSpawned?.();
  const spawnError = new Promise<never>((_, reject) => child.once('error', (err) => reject(new SystemError(`starting monitor ${o.conmonPath}: ${err.message}`))));
  spawnError.catch(() => undefined);
  const messages = syncMessages(child.stdio[3] as Readable);
  const first = await Promise.race([messages.next(), spawnError]);
  if (first.done) {
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    throw new SystemError(`monitor exited without starting the container${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
  }
  const msg = first.value;
  if (msg.data < 0) {
    (child.stdio[3] as Readable).destroy();
    throw new RuntimeStartError(runtimeMessage(msg.message ?? `runtime failed with status ${msg.data}`));
  }
  const pid = msg.data;
  const monitorPid = Number(fs.readFileSync(o.monitorPidFile, 'utf8').trim());
  const monitorStartTime = processStartTime(monitorPid) ?? '';
  const launched: Launched = { pid, monitorPid, monitorStartTime };
  if (o.execProcessSpec) {
    launched.exitCode = messages.next().then((r) => {
      (child.stdio[3] as Readable).destroy();
      if (r.done) throw new SystemError('monitor exited without reporting the exit code');
      return r.value.data;
    });
  } else {
    (child.stdio[3] as Readable).destroy();
  }
  child.unref();
  return launched;
}

/** Sends a terminal resize through the monitor's control FIFO. */
export function resizeTerminal(bundle: string, height: number, width: number): void {
  const fd = fs.openSync(`${bundle}/ctl`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    fs.writeSync(fd, `1 ${height} ${width}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Watches a directory where monitors drop exit files named after the session. */
export class ExitWatcher {
  private watcher: fs.FSWatcher | undefined;

  constructor(
    readonly dir: string,
    private readonly onExit: (id: string, code: number, exitedAtMs: number) => void,
  ) {}

  start(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    this.watcher = fs.watch(this.dir, (_ev, name) => {
      if (name && /^[a-f0-9]{64}$/.test(name)) this.check(name);
    });
  }

  /** Reads an exit file if present: the code, and when it was written (the exit time, also for exits while berthd was down). */
  read(id: string): { code: number; at: number } | undefined {
    try {
      const file = `${this.dir}/${id}`;
      const text = fs.readFileSync(file, 'utf8').trim();
      if (text === '') return undefined;
      return { code: Number(text), at: fs.statSync(file).mtimeMs };
    } catch {
      return undefined;
    }
  }

  check(id: string): void {
    const r = this.read(id);
    if (r !== undefined) this.onExit(id, r.code, r.at);
  }

  clear(id: string): void {
    try {
      fs.unlinkSync(`${this.dir}/${id}`);
    } catch {
      /* not there */
    }
  }

  /** Delivers exits that happened while nobody watched (daemon down). */
  scan(): void {
    for (const name of fs.readdirSync(this.dir)) if (/^[a-f0-9]{64}$/.test(name)) this.check(name);
  }

  stop(): void {
    this.watcher?.close();
  }
}
