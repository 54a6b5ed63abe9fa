/**
 * ContainerRuntime over conmon + runc: each container gets a bundle dir `<exec-root>/c/<id>`
 * (config.json, conmon's pid files, attach socket, ctl FIFO, oom marker), conmon writes exit
 * codes to `<exec-root>/exits/<id>`, exec sessions live in `<exec-root>/e/<exec-id>`, and runc
 * keeps its state under the container's runtime's own root (runtimes.ts). Only this module
 * knows those layouts.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { messageOf } from '../errdefs.js';
import type { Logger } from '../daemon/log.js';
import { isSameProcess } from '../system/proc.js';
import { StdinChannel } from './attach.js';
import type { Container, MonitorRef } from './container.js';
import { ExitWatcher, launchMonitor, resizeTerminal } from './monitor.js';
import type { Runtimes } from './runtimes.js';
import type { ContainerRuntime, CreatedProcess, ExecProcess, ExecProcessOptions, ExitListener, Leftovers, ReleasedProcess, RuntimeCreateOptions } from './runtime.js';

export interface ConmonRuntimeDeps {
  execRoot: string;
  /** The conmon binary (read at each launch: resolved to an absolute path at startup). */
  monitorPath: () => string;
  runtimes: Runtimes;
  log: Logger;
}

export class ConmonRuntime implements ContainerRuntime {
  private readonly exits: ExitWatcher;
  private listener: ExitListener | undefined;
  /** One stdin connection per running container, shared by its attached clients. */
  private readonly stdinChannels = new Map<string, StdinChannel>();

  constructor(private readonly d: ConmonRuntimeDeps) {
    this.exits = new ExitWatcher(path.join(d.execRoot, 'exits'), (id, code, at) => this.listener?.(id, code, at));
  }

  private bundleDir(id: string): string {
    return path.join(this.d.execRoot, 'c', id);
  }

  private execDir(sessionId: string): string {
    return path.join(this.d.execRoot, 'e', sessionId);
  }

  private runc(c: Container) {
    return this.d.runtimes.for(c);
  }

  private hasState(c: Container): boolean {
    return fs.existsSync(path.join(this.runc(c).root, c.id));
  }

  async init(): Promise<void> {
    await fsp.mkdir(path.join(this.d.execRoot, 'c'), { recursive: true });
    const execs = path.join(this.d.execRoot, 'e');
    await fsp.mkdir(execs, { recursive: true });
    // Exec sessions live only in the daemon's memory: the state of those an earlier daemon ran
    // is no use to anyone (a session still running keeps its open files).
    for (const name of await fsp.readdir(execs)) await fsp.rm(path.join(execs, name), { recursive: true, force: true });
  }

  async create(c: Container, o: RuntimeCreateOptions): Promise<CreatedProcess> {
    const id = c.id;
    const bundle = this.bundleDir(id);
    await fsp.rm(bundle, { recursive: true, force: true });
    await fsp.mkdir(bundle, { recursive: true, mode: 0o700 });
    await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(o.spec));
    this.exits.clear(id);
    // Leftover runtime state only exists after a crash mid-start.
    if (this.hasState(c)) await this.runc(c).delete(id, true);
    const launched = await launchMonitor({
      conmonPath: this.d.monitorPath(),
      runtime: this.runc(c),
      containerId: id,
      sessionId: id,
      bundle,
      terminal: o.terminal,
      stdin: o.stdin,
      leaveStdinOpen: o.leaveStdinOpen,
      logPath: o.logPath,
      ...(o.logSizeMax !== undefined ? { logSizeMax: o.logSizeMax } : {}),
      exitDir: this.exits.dir,
      persistDir: bundle,
      pidFile: path.join(bundle, 'pidfile'),
      monitorPidFile: path.join(bundle, 'conmon.pid'),
      ...(o.onSpawned ? { onSpawned: o.onSpawned } : {}),
    });
    return { pid: launched.pid, monitor: { pid: launched.monitorPid, startTime: launched.monitorStartTime } };
  }

  async start(c: Container, pid: number): Promise<void> {
    // Clients attached before start: connect their input before the process runs.
    await this.stdinChannels.get(c.id)?.activate();
    await this.runc(c).start(c.id, pid);
  }

  async signal(c: Container, sig: number): Promise<void> {
    const pid = c.record.state.pid;
    try {
      if (pid > 0) process.kill(pid, sig);
      else await this.runc(c).kill(c.id, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
      await this.runc(c).kill(c.id, sig);
    }
  }

  pause(c: Container): Promise<void> {
    return this.runc(c).pause(c.id);
  }

  resume(c: Container): Promise<void> {
    return this.runc(c).resume(c.id);
  }

  update(c: Container, resources: object): Promise<void> {
    return this.runc(c).update(c.id, resources);
  }

  async release(c: Container): Promise<ReleasedProcess> {
    const bundle = this.bundleDir(c.id);
    const oomKilled = fs.existsSync(path.join(bundle, 'oom'));
    this.closeStdin(c);
    // Runtime state and the bundle are independent: release them at once.
    await Promise.all([
      this.runc(c)
        .deleteStopped(c.id)
        .catch((err) => this.d.log.warn('runc delete failed', { container: c.id, err: messageOf(err) })),
      fsp.rm(bundle, { recursive: true, force: true }).catch(() => undefined),
    ]);
    return { oomKilled };
  }

  async destroy(c: Container): Promise<void> {
    this.closeStdin(c);
    const monitor = this.bundleMonitor(c.id);
    if (monitor !== undefined) {
      try {
        process.kill(monitor, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    if (this.hasState(c)) await this.runc(c).delete(c.id, true).catch(() => undefined);
    await fsp.rm(this.bundleDir(c.id), { recursive: true, force: true }).catch(() => undefined);
    this.exits.clear(c.id);
  }

  /** The live conmon whose pid file is in the container's bundle, if any (verified by its command line). */
  private bundleMonitor(id: string): number | undefined {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(path.join(this.bundleDir(id), 'conmon.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return undefined;
      return cmdline.includes(id) && cmdline.includes(this.bundleDir(id)) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  leftovers(c: Container): Leftovers {
    return { monitor: this.bundleMonitor(c.id) !== undefined, state: this.hasState(c), bundle: fs.existsSync(this.bundleDir(c.id)) };
  }

  monitorAlive(ref: MonitorRef): boolean {
    return isSameProcess(ref.pid, ref.startTime);
  }

  pids(c: Container): Promise<number[]> {
    return this.runc(c).pids(c.id);
  }

  resizeTerminal(c: Container, height: number, width: number): void {
    resizeTerminal(this.bundleDir(c.id), height, width);
  }

  stdinChannel(c: Container): StdinChannel {
    let ch = this.stdinChannels.get(c.id);
    if (!ch) {
      ch = new StdinChannel(path.join(this.bundleDir(c.id), 'attach'));
      this.stdinChannels.set(c.id, ch);
    }
    return ch;
  }

  closeStdin(c: Container): void {
    this.stdinChannels.get(c.id)?.close();
    this.stdinChannels.delete(c.id);
  }

  async exec(c: Container, o: ExecProcessOptions): Promise<ExecProcess> {
    const dir = this.execDir(o.sessionId);
    const cleanup = () => fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const specPath = path.join(dir, 'process.json');
      await fsp.writeFile(specPath, JSON.stringify(o.process));
      const logPath = path.join(dir, 'exec.log');
      const launched = await launchMonitor({
        conmonPath: this.d.monitorPath(),
        runtime: this.runc(c),
        containerId: c.id,
        sessionId: o.sessionId,
        bundle: dir,
        terminal: o.terminal,
        stdin: o.stdin,
        leaveStdinOpen: false,
        logPath,
        exitDir: dir,
        persistDir: dir,
        pidFile: path.join(dir, 'pid'),
        monitorPidFile: path.join(dir, 'conmon.pid'),
        execProcessSpec: specPath,
      });
      return {
        pid: launched.pid,
        logPath,
        exitCode: launched.exitCode!,
        stdin: o.stdin ? new StdinChannel(path.join(dir, 'attach')) : undefined,
        resize: (h, w) => resizeTerminal(dir, h, w),
        cleanup,
      };
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  watchExits(listener: ExitListener): void {
    this.listener = listener;
    this.exits.start();
    this.exits.scan();
  }

  exitOf(id: string): { code: number; at: number } | undefined {
    return this.exits.read(id);
  }

  clearExit(id: string): void {
    this.exits.clear(id);
  }

  shutdown(): void {
    this.exits.stop();
  }
}
