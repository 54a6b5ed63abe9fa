/**
 * `docker exec`: extra processes in a running container, each run under its
 * own monitor (conmon --exec) so that TTY handling, output capture and the
 * exit code work the same way as for the container's main process.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidParameterError, NotFoundError, messageOf } from '../errdefs.js';
import type { ExecInspect } from '../api/types.js';
import type { Hijacked } from '../api/streams/hijack.js';
import type { DaemonConfig } from '../daemon/config.js';
import type { Logger } from '../daemon/log.js';
import { resolveCapabilities } from '../security/capabilities.js';
import { launchMonitor, resizeTerminal, RuntimeStartError } from './monitor.js';
import { parseDetachKeys, runAttach, StdinChannel } from './attach.js';
import { StreamWriter } from '../api/streams/writer.js';
import { mergeEnv, type ContainerService } from './service.js';
import { parseSecurityOpts } from './create-request.js';
import { resolveUser } from './user.js';
import type { Container } from './container.js';
import type { RootfsManager } from './rootfs.js';
import type { Runtimes } from './runtimes.js';

export interface ExecConfig {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  DetachKeys: string;
  Env: string[];
  WorkingDir: string;
  Cmd: string[];
  ConsoleSize: [number, number] | null;
}

interface ExecSession {
  id: string;
  container: Container;
  config: ExecConfig;
  started: boolean;
  running: boolean;
  exitCode: number | null;
  pid: number;
  dir: string;
  stdin: StdinChannel | undefined;
  stopped: Promise<void>;
  finishedAt: number;
}

const KEEP_EXITED_MS = 5 * 60 * 1000;

export class ExecManager {
  private readonly sessions = new Map<string, ExecSession>();

  constructor(
    private readonly config: DaemonConfig,
    private readonly log: Logger,
    private readonly containers: ContainerService,
    private readonly rootfs: RootfsManager,
    private readonly runtimes: Runtimes,
  ) {}

  private get(id: string): ExecSession {
    const s = this.sessions.get(id);
    if (!s) throw new NotFoundError(`No such exec instance: ${id}`);
    return s;
  }

  private checkRunning(c: Container): void {
    if (c.isPaused()) throw new ConflictError(`Container ${c.id} is paused, unpause the container before exec`);
    if (c.status === 'restarting') throw new ConflictError(`Container ${c.id} is restarting, wait until the container is running`);
    if (!c.isRunning()) throw new ConflictError(`container ${c.id} is not running`);
  }

  create(containerRef: string, body: unknown): string {
    const c = this.containers.store.get(containerRef);
    if (!body || typeof body !== 'object') throw new InvalidParameterError('exec config cannot be empty');
    const b = body as Record<string, unknown>;
    const cmd = b.Cmd;
    if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((x) => typeof x === 'string')) throw new InvalidParameterError('No exec command specified');
    const strOr = (v: unknown, d = '') => (typeof v === 'string' ? v : d);
    const env = Array.isArray(b.Env) ? (b.Env as unknown[]).map(String) : [];
    for (const e of env) if (e.split('=', 1)[0] === '') throw new InvalidParameterError(`invalid environment variable: ${e}`);
    const wd = strOr(b.WorkingDir);
    if (wd && !wd.startsWith('/')) throw new InvalidParameterError(`the working directory '${wd}' is invalid, it needs to be an absolute path`);
    const cs = Array.isArray(b.ConsoleSize) && b.ConsoleSize.length === 2 ? ([Number(b.ConsoleSize[0]), Number(b.ConsoleSize[1])] as [number, number]) : null;
    const config: ExecConfig = {
      User: strOr(b.User),
      Privileged: b.Privileged === true,
      Tty: b.Tty === true,
      AttachStdin: b.AttachStdin === true,
      AttachStdout: b.AttachStdout === true,
      AttachStderr: b.AttachStderr === true,
      DetachKeys: strOr(b.DetachKeys),
      Env: env,
      WorkingDir: wd,
      Cmd: cmd as string[],
      ConsoleSize: cs,
    };
    if (config.DetachKeys) parseDetachKeys(config.DetachKeys);
    this.checkRunning(c);
    this.gc();
    const id = randomBytes(32).toString('hex');
    const session: ExecSession = {
      id,
      container: c,
      config,
      started: false,
      running: false,
      exitCode: null,
      pid: 0,
      dir: path.join(this.config.execRoot, 'e', id),
      stdin: undefined,
      stopped: Promise.resolve(),
      finishedAt: 0,
    };
    this.sessions.set(id, session);
    c.execIds.add(id);
    this.containers.event(c, `exec_create: ${config.Cmd.join(' ')}`, { execID: id });
    return id;
  }

  inspect(id: string): ExecInspect {
    const s = this.get(id);
    return {
      CanRemove: false,
      ID: s.id,
      Running: s.running,
      ExitCode: s.exitCode,
      ProcessConfig: { tty: s.config.Tty, entrypoint: s.config.Cmd[0]!, arguments: s.config.Cmd.slice(1), privileged: s.config.Privileged, user: s.config.User },
      OpenStdin: s.config.AttachStdin,
      OpenStderr: s.config.AttachStderr,
      OpenStdout: s.config.AttachStdout,
      ContainerID: s.container.id,
      DetachKeys: s.config.DetachKeys,
      Pid: s.pid,
    };
  }

  resize(id: string, height: number, width: number): void {
    const s = this.get(id);
    if (!s.running) throw new ConflictError(`exec ${id} is not running`);
    if (!s.config.Tty) return;
    try {
      resizeTerminal(s.dir, height, width);
    } catch (err) {
      throw new ConflictError(`cannot resize exec ${id}: ${messageOf(err)}`);
    }
  }

  /**
   * Starts the process. With a client, streams its I/O until it exits and
   * returns once the exit code is stored (the CLI reads it right after).
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null }, client?: Hijacked): Promise<void> {
    const s = this.get(id);
    if (s.started) throw new ConflictError(`Error: Exec command ${id} is already running`);
    const c = s.container;
    this.checkRunning(c);
    s.started = true;
    if (opts.tty !== undefined) s.config.Tty = opts.tty || s.config.Tty;
    if (opts.consoleSize) s.config.ConsoleSize = opts.consoleSize;
    const cfg = s.config;
    await fsp.mkdir(s.dir, { recursive: true, mode: 0o700 });
    const r = c.record;
    const rootfs = this.rootfs.mergedDir(c.id);
    let exited: Promise<number>;
    try {
      const user = resolveUser(rootfs, cfg.User || r.config.User, r.hostConfig.GroupAdd ?? []);
      let env = mergeEnv(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${r.config.Hostname}`], r.config.Env);
      if (cfg.Tty) env = mergeEnv(env, ['TERM=xterm']);
      env = mergeEnv(env, cfg.Env);
      if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
      const caps = cfg.Privileged ? resolveCapabilities(null, null, true) : resolveCapabilities(r.hostConfig.CapAdd, r.hostConfig.CapDrop, r.hostConfig.Privileged);
      const process: Record<string, unknown> = {
        terminal: cfg.Tty,
        user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
        args: cfg.Cmd,
        env,
        cwd: cfg.WorkingDir || r.config.WorkingDir || '/',
        capabilities: { bounding: caps, effective: caps, permitted: caps },
        noNewPrivileges: parseSecurityOpts(r.hostConfig.SecurityOpt).noNewPrivileges,
      };
      if (cfg.Tty && cfg.ConsoleSize && cfg.ConsoleSize[0] > 0) process.consoleSize = { height: cfg.ConsoleSize[0], width: cfg.ConsoleSize[1] };
      const specPath = path.join(s.dir, 'process.json');
      await fsp.writeFile(specPath, JSON.stringify(process));
      const launched = await launchMonitor({
        conmonPath: this.config.monitorPath,
        runtime: this.runtimes.for(c),
        containerId: c.id,
        sessionId: id,
        bundle: s.dir,
        terminal: cfg.Tty,
        stdin: cfg.AttachStdin,
        leaveStdinOpen: false,
        logPath: path.join(s.dir, 'exec.log'),
        exitDir: s.dir,
        persistDir: s.dir,
        pidFile: path.join(s.dir, 'pid'),
        monitorPidFile: path.join(s.dir, 'conmon.pid'),
        execProcessSpec: specPath,
      });
      s.pid = launched.pid;
      s.running = true;
      exited = launched.exitCode!;
    } catch (err) {
      s.exitCode = err instanceof RuntimeStartError ? err.exitCode : 126;
      s.running = false;
      s.finishedAt = Date.now();
      await fsp.rm(s.dir, { recursive: true, force: true });
      const msg = err instanceof RuntimeStartError ? `OCI runtime exec failed: exec failed: ${err.message}: unknown` : messageOf(err);
      if (client) {
        // The client is already attached: report on its stdout like dockerd does, then close.
        const w = new StreamWriter(client.output, cfg.Tty);
        await w.write(1, msg, '\r\n');
        await w.flush();
        client.end();
        return;
      }
      throw new ConflictError(msg);
    }
    this.containers.event(c, `exec_start: ${cfg.Cmd.join(' ')}`, { execID: id });
    s.stdin = cfg.AttachStdin ? new StdinChannel(path.join(s.dir, 'attach')) : undefined;
    if (s.stdin) await s.stdin.activate();
    s.stopped = exited.then(
      (code) => {
        s.exitCode = code;
      },
      (err) => {
        this.log.warn('exec monitor failed', { exec: id, err: messageOf(err) });
        s.exitCode = 126;
      },
    );
    const finish = s.stopped.then(async () => {
      s.running = false;
      s.finishedAt = Date.now();
      s.stdin?.close();
      this.containers.event(c, 'exec_die', { execID: id, exitCode: String(s.exitCode) });
    });
    if (!client) {
      void finish.then(() => fsp.rm(s.dir, { recursive: true, force: true }));
      return;
    }
    await runAttach(
      { logPath: path.join(s.dir, 'exec.log'), maxLogFiles: 1, tty: cfg.Tty, stdin: s.stdin, closeStdinOnEof: true, stopped: s.stopped },
      client,
      { stdin: cfg.AttachStdin, stdout: cfg.AttachStdout, stderr: cfg.AttachStderr, logs: true, stream: true, detachKeys: parseDetachKeys(cfg.DetachKeys || undefined) },
    );
    void finish.then(() => fsp.rm(s.dir, { recursive: true, force: true }));
  }

  /** Forgets exec sessions of removed containers and long-finished ones. */
  private gc(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.container.removed || (!s.running && s.finishedAt > 0 && now - s.finishedAt > KEEP_EXITED_MS)) {
        this.sessions.delete(id);
        s.container.execIds.delete(id);
      }
    }
  }

  /** Sessions of a container that are still running (for cleanup on exit). */
  runningFor(containerId: string): string[] {
    return [...this.sessions.values()].filter((s) => s.container.id === containerId && s.running).map((s) => s.id);
  }
}
