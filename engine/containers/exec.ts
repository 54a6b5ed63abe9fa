/**
 * `docker exec`: extra processes in a running container, each run under its
 * own monitor (conmon --exec) so that TTY handling, output capture and the
 * exit code work the same way as for the container's main process.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidParameterError, NotFoundError, messageOf } from '../errdefs.js';
import type { ExecInspect } from '../api/types.js';
import type { Logger } from '../daemon/log.js';
import { resolveCapabilities } from '../security/capabilities.js';
import { RuntimeStartError } from './monitor.js';
import { parseDetachKeys, runAttach, type StdinChannel } from './attach.js';
import { DEFAULT_PATH, mergeEnv } from './env.js';
import { parseSecurityOpts } from './create-request.js';
import { resolveUser } from './user.js';
import type { Container } from './container.js';
import type { ContainerRuntime, ExecProcess } from './runtime.js';
import type { ClientStreams } from './streams.js';

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
  process: ExecProcess | undefined;
  stdin: StdinChannel | undefined;
  stopped: Promise<void>;
  finishedAt: number;
}

const KEEP_EXITED_MS = 5 * 60 * 1000;

export interface ExecDeps {
  log: Logger;
  containers: { store: { get(ref: string): Container }; event(c: Container, action: string, extra?: Record<string, string>): void };
  /** Where a container's root filesystem is mounted while it runs. */
  rootfsOf(id: string): string;
  runtime: ContainerRuntime;
}

const EXEC_FIELDS = ['User', 'Privileged', 'Tty', 'ConsoleSize', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Detach', 'DetachKeys', 'Env', 'WorkingDir', 'Cmd'];

/**
 * Field names matched as Go's encoding/json matches them (case-insensitively): docker-py sends
 * `detachKeys` from the client's config file, and dockerd honours it.
 */
function goFields(body: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const byLower = new Map(fields.map((f) => [f.toLowerCase(), f]));
  for (const [k, v] of Object.entries(body)) {
    const f = byLower.get(k.toLowerCase());
    // An exact match wins over a differently cased duplicate.
    if (f && (k === f || !(f in out))) out[f] = v;
  }
  return out;
}

/** Decodes an exec create request (`POST /containers/{id}/exec`) with dockerd's messages. */
export function parseExecConfig(body: unknown): ExecConfig {
  if (!body || typeof body !== 'object') throw new InvalidParameterError('exec config cannot be empty');
  const b = goFields(body as Record<string, unknown>, EXEC_FIELDS);
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
  return config;
}

export class ExecManager {
  private readonly sessions = new Map<string, ExecSession>();
  private readonly log: Logger;

  constructor(private readonly d: ExecDeps) {
    this.log = d.log;
  }

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

  create(containerRef: string, config: ExecConfig): string {
    const c = this.d.containers.store.get(containerRef);
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
      process: undefined,
      stdin: undefined,
      stopped: Promise.resolve(),
      finishedAt: 0,
    };
    this.sessions.set(id, session);
    c.execIds.add(id);
    // A container's removal ends its sessions: nothing of them may stay in the exec root.
    if (c.execIds.size === 1) void c.onRemoved().then(() => this.forgetContainer(c));
    this.d.containers.event(c, `exec_create: ${config.Cmd.join(' ')}`, { execID: id });
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
      s.process?.resize(height, width);
    } catch (err) {
      throw new ConflictError(`cannot resize exec ${id}: ${messageOf(err)}`);
    }
  }

  /**
   * Starts the process. With a client, streams its I/O until it exits and
   * returns once the exit code is stored (the CLI reads it right after).
   * `opts.tty` is the start request's Tty: the caller frames the output with it (raw or
   * multiplexed, as moby's router does); whether the process has a terminal was fixed at create.
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null }, client?: ClientStreams): Promise<void> {
    const s = this.get(id);
    if (s.started) throw new ConflictError(`Error: Exec command ${id} is already running`);
    const c = s.container;
    this.checkRunning(c);
    s.started = true;
    if (opts.consoleSize) s.config.ConsoleSize = opts.consoleSize;
    const cfg = s.config;
    const r = c.record;
    let proc: ExecProcess;
    try {
      const user = await resolveUser(this.d.rootfsOf(c.id), cfg.User || r.config.User, r.hostConfig.GroupAdd ?? []);
      let env = mergeEnv([DEFAULT_PATH, `HOSTNAME=${r.config.Hostname}`], r.config.Env);
      if (cfg.Tty) env = mergeEnv(env, ['TERM=xterm']);
      env = mergeEnv(env, cfg.Env);
      if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
      const caps = cfg.Privileged ? resolveCapabilities(null, null, true) : resolveCapabilities(r.hostConfig.CapAdd, r.hostConfig.CapDrop, r.hostConfig.Privileged);
      const spec: Record<string, unknown> = {
        terminal: cfg.Tty,
        user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
        args: cfg.Cmd,
        env,
        cwd: cfg.WorkingDir || r.config.WorkingDir || '/',
        capabilities: { bounding: caps, effective: caps, permitted: caps },
        noNewPrivileges: parseSecurityOpts(r.hostConfig.SecurityOpt).noNewPrivileges,
      };
      if (cfg.Tty && cfg.ConsoleSize && cfg.ConsoleSize[0] > 0) spec.consoleSize = { height: cfg.ConsoleSize[0], width: cfg.ConsoleSize[1] };
      proc = await this.d.runtime.exec(c, { sessionId: id, process: spec, terminal: cfg.Tty, stdin: cfg.AttachStdin });
      s.process = proc;
      s.pid = proc.pid;
      s.running = true;
    } catch (err) {
      // dockerd 20.10 reports 126 for every exec that could not start (a missing executable too).
      s.exitCode = 126;
      s.running = false;
      s.finishedAt = Date.now();
      const msg = err instanceof RuntimeStartError ? `OCI runtime exec failed: exec failed: ${err.message}: unknown` : messageOf(err);
      if (client) {
        // The client is already attached: report on its stdout like dockerd does, then close.
        await client.output.write(1, msg, '\r\n');
        await client.output.flush();
        client.end();
        return;
      }
      throw new ConflictError(msg);
    }
    this.d.containers.event(c, `exec_start: ${cfg.Cmd.join(' ')}`, { execID: id });
    s.stdin = proc.stdin;
    // Input typed into an exec that could not reach its monitor would vanish silently: say so.
    if (s.stdin && !(await s.stdin.activate())) this.log.warn('exec stdin could not be connected to its monitor; input is dropped', { exec: id.slice(0, 12) });
    s.stopped = proc.exitCode.then(
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
      this.d.containers.event(c, 'exec_die', { execID: id, exitCode: String(s.exitCode) });
    });
    if (!client) {
      void finish.then(() => proc.cleanup());
      return;
    }
    await runAttach(
      { logPath: proc.logPath, maxLogFiles: 1, tty: cfg.Tty, stdin: s.stdin, closeStdinOnEof: true, stopped: s.stopped },
      client,
      { stdin: cfg.AttachStdin, stdout: cfg.AttachStdout, stderr: cfg.AttachStderr, logs: true, stream: true, detachKeys: parseDetachKeys(cfg.DetachKeys || undefined) },
    );
    void finish.then(() => proc.cleanup());
  }

  /** The container is gone: its sessions end and their state goes with them. */
  private forgetContainer(c: Container): void {
    for (const [id, s] of this.sessions) {
      if (s.container !== c) continue;
      s.stdin?.close();
      void s.process?.cleanup().catch(() => undefined);
      this.sessions.delete(id);
      c.execIds.delete(id);
    }
  }

  /** Drops a finished session at once (health probes: moby unregisters them, they never show in ExecIDs). */
  forget(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    const drop = () => {
      this.sessions.delete(id);
      s.container.execIds.delete(id);
    };
    if (s.running) void s.stopped.then(drop);
    else drop();
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
}
