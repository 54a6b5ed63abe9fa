/**
 * Container lifecycle: create, start, stop, kill, pause, restart, remove,
 * rename, update and wait, with Docker's state machine, messages and events.
 * It owns everything a running container holds (rootfs mount, runtime
 * state, monitor, bundle dir) and releases it when the container exits —
 * also for exits that happened while the daemon was down.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidParameterError, NotModifiedError, SystemError, messageOf } from '../errdefs.js';
import type { DaemonConfig, Ulimit as DaemonUlimit } from '../daemon/config.js';
import { parseSize, validateLogOpts, ConfigError } from '../daemon/config.js';
import type { Logger } from '../daemon/log.js';
import type { EventBus } from '../events/bus.js';
import type { ImageStore, Image } from '../images/store.js';
import type { LayerStore } from '../images/layers.js';
import type { HostConfig, Ulimit, WaitResponse } from '../api/types.js';
import { nowNanos, rfc3339Nano, ZERO_TIME, parseTimeMs } from '../system/time.js';
import { parseSignal } from '../system/signals.js';
import { isSameProcess, ownHardLimits } from '../system/proc.js';
import { resolveCapabilities } from '../security/capabilities.js';
import { mkdirInRoot } from '../storage/rootpath.js';
import { etcPaths, writeEtcFiles } from '../network/etc-files.js';
import type { NetworkManager } from '../network/manager.js';
import { Container, initialState, type ContainerRecord, type WaitCondition } from './container.js';
import type { ContainerStore } from './store.js';
import type { RootfsManager } from './rootfs.js';
import type { Runtimes } from './runtimes.js';
import { ExitWatcher, launchMonitor, reopenLog, RuntimeStartError } from './monitor.js';
import { buildSpec, INIT_PATH, type OciMount } from './spec.js';
import { resolveUser } from './user.js';
import { normalizeCreate, parseCreateBody, parseSecurityOpts, validateResources } from './create-request.js';
import { randomName, validateName } from './names.js';
import { rotateLogFiles } from './logs.js';
import { StdinChannel } from './attach.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_STOP_TIMEOUT = 10;
const RESTART_BACKOFF_MIN = 100;
const RESTART_BACKOFF_MAX = 60_000;

export interface ServiceDeps {
  config: DaemonConfig;
  layers: LayerStore;
  log: Logger;
  events: EventBus;
  images: ImageStore;
  store: ContainerStore;
  rootfs: RootfsManager;
  runtimes: Runtimes;
  networks: NetworkManager;
}

/** Hooks other subsystems attach to a container's lifecycle (volumes, networking). */
export interface LifecycleHooks {
  /** Extra mounts (volumes, binds) for the spec. */
  mounts?(c: Container, rootfs: string): Promise<OciMount[]>;
  /** The monitor was just spawned and runc is creating the container: work that can overlap it starts here. */
  launching?(c: Container): void;
  /** After the runtime created the process (its netns exists), before it starts. */
  created?(c: Container, pid: number): Promise<void>;
  /** After the process exited and was deleted. */
  exited?(c: Container): Promise<void>;
  /** When the container is removed. */
  removed?(c: Container, opts: { volumes: boolean }): Promise<void>;
  /** Validation at create time. */
  creating?(c: ContainerRecord, image: Image): Promise<void>;
}

function generateId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    // A short ID made only of digits would be read as a number by some tools.
    if (!/^\d{12}/.test(id)) return id;
  }
}

/** "KEY=VAL" lists merged so later keys win, keeping first positions (moby's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(e.split('=', 1)[0]!, i));
  for (const e of overrides) {
    const k = e.split('=', 1)[0]!;
    const at = index.get(k);
    if (at !== undefined) out[at] = e;
    else {
      index.set(k, out.length);
      out.push(e);
    }
  }
  return out;
}

/** Shell-style quoting for the Command column of `docker ps`. */
function quoteArg(a: string): string {
  return /[\s'"\\$`]/.test(a) || a === '' ? `'${a.replace(/'/g, "'\\''")}'` : a;
}

export function commandString(c: ContainerRecord): string {
  return [c.path, ...c.args].map((a, i) => (i === 0 ? a : quoteArg(a))).join(' ');
}

interface RestartTimer {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

export class ContainerService {
  readonly exitWatcher: ExitWatcher;
  private readonly hooks: LifecycleHooks[] = [];
  private readonly restartTimers = new Map<string, RestartTimer>();
  /** One stdin connection per running container, shared by its attached clients. */
  private readonly stdinChannels = new Map<string, StdinChannel>();
  private readonly backoff = new Map<string, number>();
  private readonly hardLimits = ownHardLimits();
  private logRotationTimer: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  /** Containers inside `docker restart`: their --rm waits (as dockerd's does) until they are stopped for good. */
  private readonly restartingByUser = new Set<string>();

  constructor(private readonly d: ServiceDeps) {
    this.exitWatcher = new ExitWatcher(path.join(d.config.execRoot, 'exits'), (id, code, at) => void this.handleExit(id, code, false, at));
  }

  addHooks(h: LifecycleHooks): void {
    this.hooks.push(h);
  }

  get store(): ContainerStore {
    return this.d.store;
  }

  stdinChannel(c: Container): StdinChannel {
    let ch = this.stdinChannels.get(c.id);
    if (!ch) {
      ch = new StdinChannel(path.join(this.bundleDir(c.id), 'attach'));
      this.stdinChannels.set(c.id, ch);
    }
    return ch;
  }

  bundleDir(id: string): string {
    return path.join(this.d.config.execRoot, 'c', id);
  }

  logPath(id: string): string {
    return path.join(this.d.store.dir(id), 'container.log');
  }

  /** Where the monitor writes the container's output: its log, or a small scratch file when logging is off (attach reads it). */
  outputPath(c: Container): string {
    return c.record.hostConfig.LogConfig.Type === 'none' ? path.join(this.d.store.dir(c.id), 'output.log') : c.record.logPath;
  }

  /** Log rotation settings of a container (json-file's max-size / max-file). */
  logLimits(c: Container): { maxSize: number; maxFile: number } {
    const cfg = c.record.hostConfig.LogConfig.Config ?? {};
    const maxSize = cfg['max-size'] ? parseSize(cfg['max-size']) : 0;
    const maxFile = maxSize > 0 ? Number(cfg['max-file'] ?? 1) : 1;
    return { maxSize, maxFile };
  }

  // ---- startup ----------------------------------------------------------

  /** Loads containers and reconciles them with reality (live restore). */
  async init(): Promise<void> {
    await fsp.mkdir(path.join(this.d.config.execRoot, 'c'), { recursive: true });
    await fsp.mkdir(path.join(this.d.config.execRoot, 'e'), { recursive: true });
    const containers = await this.d.store.load();
    for (const c of containers) if (c.record.topLayer === undefined) c.record.topLayer = this.d.images.get(c.record.imageId)?.topLayer ?? null;
    this.d.images.setLayerUsers(() => this.d.store.all().map((c) => c.record.topLayer ?? null));
    await this.d.images.collectOrphanLayers();
    // Overlay dirs of containers whose record never got written.
    const known = new Set(containers.map((c) => c.id));
    const ovDir = path.join(this.d.rootfs.dir('x'), '..');
    for (const name of await fsp.readdir(ovDir).catch(() => [] as string[])) {
      if (!known.has(name)) await this.d.rootfs.remove(name).catch(() => undefined);
    }
    for (const c of containers) await this.reconcile(c);
    this.logRotationTimer = setInterval(() => void this.rotateLogs(), 500);
    this.logRotationTimer.unref();
  }

  /** Restarts containers whose policy says so, after a daemon start (Docker does this at boot). */
  async startPolicyContainers(): Promise<void> {
    for (const c of this.d.store.all()) {
      const p = c.record.hostConfig.RestartPolicy.Name;
      const wanted = p === 'always' || (p === 'unless-stopped' && !c.record.hasBeenManuallyStopped) || c.status === 'restarting';
      if (!wanted || c.isRunning()) continue;
      if (p === 'always' && c.record.hasBeenManuallyStopped && c.status !== 'restarting') continue;
      this.start(c.id).catch((err) => this.d.log.warn('failed to restart container on daemon start', { container: c.id, err: messageOf(err) }));
    }
  }

  /**
   * Starts delivering exits, including those that happened while berthd was down. Called once
   * networking and volumes took back what running containers hold, so an exit releases it all.
   */
  watchExits(): void {
    this.exitWatcher.start();
    this.exitWatcher.scan();
  }

  private async reconcile(c: Container): Promise<void> {
    const s = c.record.state;
    if (s.status === 'removing' || s.status === 'dead') {
      await this.finishRemove(c, false).catch(() => undefined);
      return;
    }
    // A 'restarting' container lost its backoff timer with the old daemon; startPolicyContainers restarts it.
    if (s.status !== 'running' && s.status !== 'paused') return;
    const exitCode = this.exitWatcher.read(c.id);
    if (exitCode !== undefined) return; // the scan delivers it
    const alive = c.record.monitor && isSameProcess(c.record.monitor.pid, c.record.monitor.startTime);
    if (alive) {
      this.d.log.info('restored running container', { container: c.id.slice(0, 12), pid: s.pid });
      return;
    }
    // The monitor is gone without an exit file (host reboot, killed monitor).
    this.d.log.warn('container monitor is gone; marking container exited', { container: c.id.slice(0, 12) });
    await this.handleExit(c.id, 255, true);
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.exitWatcher.stop();
    if (this.logRotationTimer) clearInterval(this.logRotationTimer);
    for (const t of this.restartTimers.values()) clearTimeout(t.timer);
  }

  // ---- create -----------------------------------------------------------

  async create(body: unknown, name: string | null): Promise<{ Id: string; Warnings: string[] }> {
    const parsed = parseCreateBody(body);
    let n;
    try {
      n = normalizeCreate(parsed, { logDriver: this.d.config.logDriver, logOpts: this.d.config.logOpts });
      validateLogOpts(n.hostConfig.LogConfig.Type === 'json-file' || n.hostConfig.LogConfig.Type === 'local' ? n.hostConfig.LogConfig.Config : {});
    } catch (err) {
      if (err instanceof ConfigError) throw new InvalidParameterError(err.message);
      throw err;
    }
    const { config, hostConfig, networkingConfig } = n;
    // Settings are checked before the image, as dockerd does (an unknown runtime never pulls).
    hostConfig.Runtime = this.d.runtimes.resolveName(parsed.HostConfig?.Runtime);
    if (!config.Image) throw new InvalidParameterError('No image specified');
    const image = this.d.images.lookup(config.Image);
    const ic = image.config.config ?? {};
    const warnings: string[] = [];

    // Image defaults under the user's settings.
    config.Env = mergeEnv(ic.Env ?? [], config.Env);
    const userSetEntrypoint = config.Entrypoint !== null;
    if (!userSetEntrypoint) config.Entrypoint = ic.Entrypoint ?? null;
    if (config.Cmd === null && !userSetEntrypoint) config.Cmd = ic.Cmd ?? null;
    if (!config.WorkingDir) config.WorkingDir = ic.WorkingDir ?? '';
    if (!config.User) config.User = ic.User ?? '';
    if (ic.ExposedPorts) config.ExposedPorts = { ...ic.ExposedPorts, ...(config.ExposedPorts ?? {}) };
    if (ic.Volumes) config.Volumes = { ...ic.Volumes, ...(config.Volumes ?? {}) };
    config.Labels = { ...(ic.Labels ?? {}), ...config.Labels };
    if (!config.StopSignal && ic.StopSignal) config.StopSignal = ic.StopSignal;
    if (!config.Healthcheck && ic.Healthcheck) config.Healthcheck = ic.Healthcheck;
    else if (config.Healthcheck && ic.Healthcheck && (!config.Healthcheck.Test || config.Healthcheck.Test.length === 0)) {
      config.Healthcheck = { ...ic.Healthcheck, ...Object.fromEntries(Object.entries(config.Healthcheck).filter(([, v]) => v)) };
    }
    const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    if (argv.length === 0) throw new InvalidParameterError('no command specified');

    // Like dockerd, a missing network or container:<x> is an error at start, not create: a 404 here would make the CLI pull the image.
    this.d.networks.validateMode(hostConfig.NetworkMode);

    const id = generateId();
    if (!config.Hostname) config.Hostname = hostConfig.NetworkMode === 'host' ? os.hostname() : id.slice(0, 12);
    let cname: string;
    if (name) cname = validateName(name);
    else {
      let i = 0;
      do cname = randomName(i++ > 5 ? i : 0);
      while (this.d.store.nameTaken(cname));
    }
    const record: ContainerRecord = {
      id,
      name: cname,
      created: rfc3339Nano(),
      path: argv[0]!,
      args: argv.slice(1),
      config,
      hostConfig,
      networkingConfig,
      imageId: image.id,
      topLayer: image.topLayer,
      state: initialState(),
      restartCount: 0,
      hasBeenStartedBefore: false,
      hasBeenManuallyStopped: false,
      mounts: [],
      networks: this.d.networks.initialEndpoints(hostConfig.NetworkMode, networkingConfig.EndpointsConfig),
      ports: {},
      sandboxKey: '',
      logPath: this.logPath(id),
    };
    for (const h of this.hooks) await h.creating?.(record, image);
    const c = new Container(record);
    this.d.store.add(c);
    try {
      await fsp.mkdir(this.d.store.dir(id), { recursive: true, mode: 0o700 });
      await this.d.rootfs.create(id);
      await this.d.store.save(c);
    } catch (err) {
      await this.d.store.remove(c).catch(() => undefined);
      await this.d.rootfs.remove(id).catch(() => undefined);
      throw err;
    }
    this.event(c, 'create');
    return { Id: id, Warnings: warnings };
  }

  // ---- start ------------------------------------------------------------

  async start(idOrName: string): Promise<void> {
    const c = this.d.store.get(idOrName);
    await c.lock.run(async () => {
      if (c.isPaused()) throw new ConflictError('cannot start a paused container, try unpause instead');
      if (c.status === 'running') throw new NotModifiedError('container is already running');
      if (c.status === 'removing' || c.status === 'dead' || c.removed) throw new ConflictError('container is marked for removal and cannot be started');
      this.cancelRestartTimer(c.id);
      await this.startLocked(c);
    });
  }

  private async startLocked(c: Container): Promise<void> {
    const r = c.record;
    // The container's layers outlive its image (rmi -f), as in Docker.
    if (r.topLayer === undefined) r.topLayer = this.d.images.get(r.imageId)?.topLayer ?? null;
    const topLayer = r.topLayer;
    if (topLayer !== null && !this.d.layers.has(topLayer)) throw new ConflictError(`the layers of container ${r.id} are missing`);
    const bundle = this.bundleDir(r.id);
    const t0 = performance.now();
    const marks: string[] = [];
    const mark = (label: string) => marks.push(`${label}=${(performance.now() - t0).toFixed(1)}`);
    try {
      const rootfs = await this.d.rootfs.mount(r.id, topLayer, { volatile: r.hostConfig.AutoRemove });
      mark('mount');
      const spec = await this.prepareSpec(c, rootfs);
      mark('spec');
      await fsp.rm(bundle, { recursive: true, force: true });
      await fsp.mkdir(bundle, { recursive: true, mode: 0o700 });
      await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      this.exitWatcher.clear(r.id);
      // Leftover runtime state only exists after a crash mid-start.
      if (fs.existsSync(path.join(this.d.runtimes.for(c).root, r.id))) await this.d.runtimes.for(c).delete(r.id, true);
      mark('bundle');
      const { maxSize, maxFile } = this.logLimits(c);
      const launched = await launchMonitor({
        conmonPath: this.d.config.monitorPath,
        runtime: this.d.runtimes.for(c),
        containerId: r.id,
        sessionId: r.id,
        bundle,
        terminal: r.config.Tty,
        stdin: r.config.OpenStdin,
        leaveStdinOpen: !r.config.StdinOnce,
        logPath: this.outputPath(c),
        // With a single file the monitor enforces max-size itself; with several, rotateLogs shifts them.
        logSizeMax: r.hostConfig.LogConfig.Type === 'none' ? 1024 * 1024 : maxSize > 0 && maxFile <= 1 ? maxSize : undefined,
        exitDir: this.exitWatcher.dir,
        persistDir: bundle,
        pidFile: path.join(bundle, 'pidfile'),
        monitorPidFile: path.join(bundle, 'conmon.pid'),
        onSpawned: () => {
          for (const h of this.hooks) h.launching?.(c);
        },
      });
      mark('create');
      r.monitor = { pid: launched.monitorPid, startTime: launched.monitorStartTime };
      r.state.pid = launched.pid;
      for (const h of this.hooks) await h.created?.(c, launched.pid);
      // Clients attached before start: connect their input before the process runs.
      await this.stdinChannels.get(r.id)?.activate();
      await this.d.runtimes.for(c).start(r.id, launched.pid);
      mark('start');
    } catch (err) {
      await this.cleanupFailedStart(c);
      const exitCode = err instanceof RuntimeStartError ? err.exitCode : 128;
      const message = err instanceof RuntimeStartError ? `failed to create task for container: failed to create shim task: OCI runtime create failed: ${err.message}: unknown` : messageOf(err);
      r.state.error = message;
      r.state.exitCode = exitCode;
      r.state.pid = 0;
      delete r.monitor;
      await this.d.store.save(c);
      // Attached clients must not hang on a process that never ran.
      c.notifyStartFailed();
      if (r.hostConfig.AutoRemove) {
        setImmediate(() => void this.remove(r.id, { force: true, volumes: true }).catch(() => undefined));
      }
      if (err instanceof InvalidParameterError || err instanceof ConflictError) throw err;
      throw new SystemError(message, { cause: err });
    }
    const now = nowNanos();
    r.state.status = 'running';
    r.state.startedAt = rfc3339Nano(now);
    r.state.finishedAt = ZERO_TIME;
    r.state.error = '';
    r.state.exitCode = 0;
    r.state.oomKilled = false;
    r.hasBeenStartedBefore = true;
    r.hasBeenManuallyStopped = false;
    await this.d.store.save(c);
    mark('saved');
    this.d.log.debug('container started', { container: r.id.slice(0, 12), timings: marks.join(' ') });
    this.event(c, 'start');
  }

  private async cleanupFailedStart(c: Container): Promise<void> {
    const id = c.id;
    await this.d.runtimes.for(c).delete(id, true).catch(() => undefined);
    for (const h of this.hooks) await h.exited?.(c).catch(() => undefined);
    await this.d.rootfs.unmount(id).catch(() => undefined);
    await fsp.rm(this.bundleDir(id), { recursive: true, force: true }).catch(() => undefined);
    this.exitWatcher.clear(id);
  }

  /** Container rlimits: daemon defaults overlaid by the container's, never above the daemon's own hard limits. */
  private ulimits(hc: HostConfig): Ulimit[] {
    const byName = new Map<string, Ulimit>();
    for (const [name, u] of Object.entries(this.d.config.defaultUlimits)) byName.set(name, { Name: name, Soft: (u as DaemonUlimit).Soft, Hard: (u as DaemonUlimit).Hard });
    for (const u of hc.Ulimits ?? []) byName.set(u.Name, u);
    const out: Ulimit[] = [];
    for (const u of byName.values()) {
      const cap = this.hardLimits.get(u.Name);
      if (cap === undefined && !['nofile', 'nproc', 'core', 'stack', 'memlock', 'fsize', 'cpu', 'data', 'as', 'locks', 'sigpending', 'msgqueue', 'nice', 'rtprio', 'rss', 'rttime'].includes(u.Name)) {
        throw new InvalidParameterError(`invalid ulimit type: ${u.Name}`);
      }
      const hard = cap !== undefined ? Math.min(u.Hard, cap) : u.Hard;
      out.push({ Name: u.Name, Hard: hard, Soft: Math.min(u.Soft, hard) });
    }
    return out;
  }

  private async prepareSpec(c: Container, rootfs: string) {
    const r = c.record;
    const hc = r.hostConfig;
    const cfg = r.config;
    const user = resolveUser(rootfs, cfg.User, hc.GroupAdd ?? []);
    const cwd = cfg.WorkingDir || '/';
    if (cwd !== '/') {
      try {
        mkdirInRoot(rootfs, cwd, user.uid, user.gid);
      } catch (err) {
        throw new InvalidParameterError(`cannot create working directory ${cwd}: ${messageOf(err)}`);
      }
    }
    const dir = this.d.store.dir(r.id);
    const etc = etcPaths(dir);
    // Networking (engine/network) picks the namespace, leases addresses and ports for this start,
    // and renders /etc/hosts, /etc/hostname and resolv.conf; its exited hook gives them back.
    const net = await this.d.networks.prepare(c);
    const netnsPath = net.netnsPath;
    await writeEtcFiles(etc, net.etc);
    const extraMounts: OciMount[] = [];
    for (const [dest, opts] of Object.entries(hc.Tmpfs ?? {})) {
      const userOpts = opts ? opts.split(',').filter(Boolean) : [];
      const base = ['noexec', 'nosuid', 'nodev'].filter((o) => !userOpts.some((u) => u === o.replace(/^no/, '') || u === o));
      extraMounts.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: [...base, ...userOpts] });
    }
    for (const h of this.hooks) if (h.mounts) extraMounts.push(...(await h.mounts(c, rootfs)));

    let env = [DEFAULT_PATH, `HOSTNAME=${cfg.Hostname}`];
    if (cfg.Tty) env.push('TERM=xterm');
    // Legacy link variables sit below the container's own Env, as in Docker.
    env = mergeEnv(mergeEnv(env, net.env), cfg.Env);
    if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
    let args = [r.path, ...r.args];
    const useInit = hc.Init ?? false;
    let initBinary: string | undefined;
    if (useInit) {
      initBinary = this.findInit();
      args = [INIT_PATH, '--', ...args];
    }
    const security = parseSecurityOpts(hc.SecurityOpt);
    const caps = resolveCapabilities(hc.CapAdd, hc.CapDrop, hc.Privileged);
    return buildSpec({
      id: r.id,
      hostConfig: hc,
      rootfs,
      hostname: cfg.Hostname,
      tty: cfg.Tty,
      args,
      env,
      cwd,
      user,
      capabilities: caps,
      noNewPrivileges: security.noNewPrivileges,
      seccomp: hc.Privileged ? 'unconfined' : security.seccomp,
      ulimits: this.ulimits(hc),
      netnsPath,
      etcFiles: etc,
      ...(initBinary ? { initBinary } : {}),
      extraMounts,
      cgroupsPath: `/berth/${r.id}`,
      labels: {},
    });
  }

  private findInit(): string {
    const p = this.d.config.initPath;
    if (p.startsWith('/')) {
      if (fs.existsSync(p)) return p;
    } else {
      for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
        const full = path.join(dir, p);
        if (fs.existsSync(full)) return full;
      }
    }
    throw new SystemError(`docker-init binary not found: ${p} (install tini, or set "init-path")`);
  }

  // ---- exit handling ----------------------------------------------------

  /** Called when a monitor reports the exit (or when the monitor vanished). */
  async handleExit(id: string, exitCode: number, monitorLost = false, exitedAtMs?: number): Promise<void> {
    const c = this.d.store.find(id);
    if (!c) {
      this.exitWatcher.clear(id);
      return;
    }
    const t0 = performance.now();
    const lag = exitedAtMs !== undefined ? ` lag=${(Date.now() - exitedAtMs).toFixed(1)}` : '';
    let released = false;
    await c.lock.run(async () => {
      if (!c.isRunning() && !monitorLost) {
        this.exitWatcher.clear(id);
        return;
      }
      await this.releaseRunning(c, exitCode, exitedAtMs);
      released = true;
    });
    const t1 = performance.now();
    await this.afterExit(c, exitCode);
    if (released) this.d.log.debug('container exited', { container: id.slice(0, 12), timings: `released=${(t1 - t0).toFixed(1)} after=${(performance.now() - t0).toFixed(1)}${lag}` });
  }

  /** Tears down what a running container holds and records its exit (caller holds the lock). */
  private async releaseRunning(c: Container, exitCode: number, exitedAtMs?: number): Promise<void> {
    const r = c.record;
    const bundle = this.bundleDir(r.id);
    const oom = fs.existsSync(path.join(bundle, 'oom'));
    this.stdinChannels.get(r.id)?.close();
    this.stdinChannels.delete(r.id);
    const warn = (what: string) => (err: unknown) => this.d.log.warn(`${what} failed`, { container: r.id, err: messageOf(err) });
    // Runtime state, networking, the root filesystem and the bundle are independent: release them at once.
    await Promise.all([
      this.d.runtimes.for(c).deleteStopped(r.id).catch(warn('runc delete')),
      (async () => {
        for (const h of this.hooks) await h.exited?.(c).catch(warn('exit hook'));
      })(),
      this.d.rootfs.unmount(r.id).catch(warn('unmount')),
      fsp.rm(bundle, { recursive: true, force: true }).catch(() => undefined),
    ]);
    r.state.status = 'exited';
    r.state.exitCode = exitCode;
    r.state.oomKilled = oom;
    r.state.pid = 0;
    r.state.finishedAt = exitedAtMs !== undefined ? rfc3339Nano(BigInt(Math.round(exitedAtMs * 1e6))) : rfc3339Nano();
    r.sandboxKey = '';
    r.ports = {};
    delete r.monitor;
    // With --rm the removal follows at once (afterExit) and is what lasts: no record to write, and
    // the exit file stays until the removal, so a crash in between replays this exit on restart.
    if (!this.removesAtExit(c)) {
      await this.d.store.save(c);
      // Only now that the exit is recorded: a crash before this point replays the exit file on restart.
      this.exitWatcher.clear(r.id);
    }
    const attrs: Record<string, string> = { exitCode: String(exitCode) };
    if (oom) this.event(c, 'oom');
    this.event(c, 'die', attrs);
    c.notifyExit({ exitCode });
  }

  private async afterExit(c: Container, exitCode: number): Promise<void> {
    if (c.removed || this.shuttingDown) return;
    const r = c.record;
    const ran = parseTimeMs(r.state.finishedAt) - parseTimeMs(r.state.startedAt);
    if (this.shouldRestart(c, exitCode)) {
      let delay = this.backoff.get(c.id) ?? 0;
      if (ran >= 10_000) delay = 0;
      delay = delay === 0 ? RESTART_BACKOFF_MIN : Math.min(delay * 2, RESTART_BACKOFF_MAX);
      this.backoff.set(c.id, delay);
      r.restartCount++;
      r.state.status = 'restarting';
      await this.d.store.save(c);
      this.scheduleRestart(c, delay);
      return;
    }
    this.backoff.delete(c.id);
    if (this.removesAtExit(c)) {
      await this.remove(c.id, { force: true, volumes: true }).catch((err) => this.d.log.warn('auto-remove failed', { container: c.id, err: messageOf(err) }));
    }
  }

  /** --rm takes effect at this exit (not during a daemon shutdown, nor inside `docker restart`). */
  private removesAtExit(c: Container): boolean {
    return c.record.hostConfig.AutoRemove && !this.shuttingDown && !this.restartingByUser.has(c.id);
  }

  private shouldRestart(c: Container, exitCode: number): boolean {
    const r = c.record;
    if (r.hasBeenManuallyStopped) return false;
    const p = r.hostConfig.RestartPolicy;
    switch (p.Name) {
      case 'always':
      case 'unless-stopped':
        return true;
      case 'on-failure':
        return exitCode !== 0 && (p.MaximumRetryCount === 0 || r.restartCount < p.MaximumRetryCount);
      default:
        return false;
    }
  }

  private scheduleRestart(c: Container, delay: number): void {
    const timer = setTimeout(() => {
      this.restartTimers.delete(c.id);
      void c.lock
        .run(async () => {
          if (c.removed || c.status !== 'restarting') return;
          await this.startLocked(c);
        })
        .catch(async (err) => {
          this.d.log.warn('restart policy could not start container', { container: c.id, err: messageOf(err) });
          if (c.status === 'restarting') {
            c.record.state.status = 'exited';
            await this.d.store.save(c).catch(() => undefined);
            await this.afterExit(c, c.record.state.exitCode);
          }
        });
    }, delay);
    this.restartTimers.set(c.id, { timer, resolve: () => undefined });
  }

  private cancelRestartTimer(id: string): boolean {
    const t = this.restartTimers.get(id);
    if (!t) return false;
    clearTimeout(t.timer);
    this.restartTimers.delete(id);
    return true;
  }

  // ---- stop / kill ------------------------------------------------------

  private stopSignalOf(c: Container): number {
    return c.record.config.StopSignal ? parseSignal(c.record.config.StopSignal) : 15;
  }

  /** Sends a signal to the container's init process (through runc, which also reaches frozen containers). */
  private async signal(c: Container, sig: number): Promise<void> {
    const pid = c.record.state.pid;
    try {
      if (pid > 0) process.kill(pid, sig);
      else await this.d.runtimes.for(c).kill(c.id, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
      await this.d.runtimes.for(c).kill(c.id, sig);
    }
    if (c.isPaused() && sig !== 0) {
      await this.d.runtimes.for(c).resume(c.id).catch(() => undefined);
      c.record.state.status = 'running';
    }
  }

  async stop(idOrName: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const c = this.d.store.get(idOrName);
    if (c.status === 'restarting') {
      // Between two runs of a restart policy: end the loop. Under the lock, so a
      // restart already under way finishes first and is then stopped normally.
      const ended = await c.lock.run(async () => {
        if (c.status !== 'restarting') return false;
        this.cancelRestartTimer(c.id);
        c.record.state.status = 'exited';
        c.record.hasBeenManuallyStopped = true;
        await this.d.store.save(c);
        return true;
      });
      if (ended) {
        this.event(c, 'stop');
        return;
      }
    }
    if (!c.isRunning()) throw new NotModifiedError('container is already stopped');
    const sig = opts.signal ? parseSignal(opts.signal) : this.stopSignalOf(c);
    const timeout = opts.timeout ?? c.record.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    const exited = c.onNextExit();
    await c.lock.run(async () => {
      c.record.hasBeenManuallyStopped = true;
      await this.d.store.save(c);
      if (!c.isRunning()) return;
      await this.signal(c, sig);
    });
    this.event(c, 'kill', { signal: String(sig) });
    if (c.isRunning()) {
      const graceful = timeout < 0 ? await exited.then(() => true) : await Promise.race([exited.then(() => true), delay(timeout * 1000).then(() => false)]);
      if (!graceful && c.isRunning()) {
        await c.lock.run(() => (c.isRunning() ? this.signal(c, 9) : undefined));
        this.event(c, 'kill', { signal: '9' });
        const killed = await Promise.race([exited.then(() => true), delay(30_000).then(() => false)]);
        if (!killed && c.isRunning()) {
          // The monitor should have reported by now; check the process ourselves.
          await this.handleExit(c.id, 137, true);
        }
      }
    }
    this.event(c, 'stop');
  }

  async kill(idOrName: string, signal: string | undefined): Promise<void> {
    const sig = signal ? parseSignal(signal) : 9;
    const c = this.d.store.get(idOrName);
    await c.lock.run(async () => {
      if (c.status === 'restarting') {
        this.cancelRestartTimer(c.id);
        c.record.state.status = 'exited';
        c.record.hasBeenManuallyStopped = true;
        await this.d.store.save(c);
        return;
      }
      if (!c.isRunning()) throw new ConflictError(`cannot kill container: ${idOrName}: container ${c.id} is not running`);
      c.record.hasBeenManuallyStopped = true;
      await this.d.store.save(c);
      await this.signal(c, sig);
    });
    this.event(c, 'kill', { signal: String(sig) });
    if (sig === 9) {
      const exited = c.onNextExit();
      if (c.isRunning()) await Promise.race([exited, delay(10_000)]);
    }
  }

  async restart(idOrName: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const c = this.d.store.get(idOrName);
    this.restartingByUser.add(c.id);
    try {
      try {
        if (c.isRunning() || c.status === 'restarting') await this.stop(c.id, opts);
      } catch (err) {
        if (!(err instanceof NotModifiedError)) throw err;
      }
      await this.start(c.id).catch((err) => {
        if (err instanceof NotModifiedError) return;
        throw err;
      });
    } finally {
      this.restartingByUser.delete(c.id);
    }
    this.event(c, 'restart');
  }

  async pause(idOrName: string): Promise<void> {
    const c = this.d.store.get(idOrName);
    await c.lock.run(async () => {
      if (!c.isRunning()) throw new ConflictError(`container ${c.id} is not running`);
      if (c.isPaused()) throw new ConflictError(`container ${c.id} is already paused`);
      await this.d.runtimes.for(c).pause(c.id).catch((err) => {
        throw new SystemError(`cannot pause container ${c.id}: ${messageOf(err)}`);
      });
      c.record.state.status = 'paused';
      await this.d.store.save(c);
    });
    this.event(c, 'pause');
  }

  async unpause(idOrName: string): Promise<void> {
    const c = this.d.store.get(idOrName);
    await c.lock.run(async () => {
      if (!c.isPaused()) throw new ConflictError(`Container ${c.id} is not paused`);
      await this.d.runtimes.for(c).resume(c.id).catch((err) => {
        throw new SystemError(`Cannot unpause container ${c.id}: ${messageOf(err)}`);
      });
      c.record.state.status = 'running';
      await this.d.store.save(c);
    });
    this.event(c, 'unpause');
  }

  // ---- remove / rename --------------------------------------------------

  async remove(idOrName: string, opts: { force: boolean; volumes: boolean }): Promise<void> {
    const c = this.d.store.get(idOrName);
    if (c.status === 'removing') throw new ConflictError(`removal of container ${idOrName} is already in progress`);
    if (c.isRunning() || c.status === 'restarting') {
      if (!opts.force) {
        if (c.isPaused()) throw new ConflictError(`cannot remove container "${idOrName}": container is paused and must be unpaused first`);
        throw new ConflictError(`cannot remove container "${idOrName}": container is ${c.status}: stop the container before removing or force remove`);
      }
      this.cancelRestartTimer(c.id);
      if (c.isRunning()) {
        const exited = c.onNextExit();
        await c.lock.run(async () => {
          c.record.hasBeenManuallyStopped = true;
          if (c.isRunning()) await this.signal(c, 9).catch(() => undefined);
        });
        this.event(c, 'kill', { signal: '9' });
        const ok = await Promise.race([exited.then(() => true), delay(15_000).then(() => false)]);
        if (!ok && c.isRunning()) await this.handleExit(c.id, 137, true);
      }
    }
    await c.lock.run(async () => {
      if (c.removed) return;
      // In memory only: a crash mid-removal leaves the container as it was, and rm can be repeated.
      c.record.state.status = 'removing';
      await this.finishRemove(c, opts.volumes);
    });
  }

  private async finishRemove(c: Container, volumes: boolean): Promise<void> {
    this.cancelRestartTimer(c.id);
    this.backoff.delete(c.id);
    if (fs.existsSync(path.join(this.d.runtimes.for(c).root, c.id))) await this.d.runtimes.for(c).delete(c.id, true).catch(() => undefined);
    await this.d.rootfs.remove(c.id);
    for (const h of this.hooks) await h.removed?.(c, { volumes }).catch((err) => this.d.log.warn('remove hook failed', { container: c.id, err: messageOf(err) }));
    await fsp.rm(this.bundleDir(c.id), { recursive: true, force: true });
    await this.d.store.remove(c);
    this.exitWatcher.clear(c.id);
    this.event(c, 'destroy');
    c.notifyRemoved({ exitCode: c.record.state.exitCode });
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    if (!idOrName || !newName) throw new InvalidParameterError('Neither old nor new names may be empty');
    const name = validateName(newName);
    const c = this.d.store.get(idOrName);
    const old = c.name;
    if (old === name) throw new InvalidParameterError('Renaming a container with the same name as its current name');
    await c.lock.run(async () => {
      this.d.store.reserveName(name, c.id);
      c.record.name = name;
      try {
        await this.d.store.save(c);
      } catch (err) {
        c.record.name = old;
        this.d.store.releaseName(name, c.id);
        throw err;
      }
      this.d.store.releaseName(old, c.id);
    });
    this.event(c, 'rename', { oldName: `/${old}` });
  }

  // ---- update -----------------------------------------------------------

  async update(idOrName: string, body: Partial<HostConfig>): Promise<string[]> {
    const c = this.d.store.get(idOrName);
    const hc = c.record.hostConfig;
    const next: HostConfig = { ...hc };
    const fields = ['CpuShares', 'Memory', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'MemoryReservation', 'MemorySwap', 'PidsLimit', 'BlkioWeight', 'KernelMemory'] as const;
    for (const f of fields) {
      const v = (body as Record<string, unknown>)[f];
      if (v !== undefined && v !== null) (next as unknown as Record<string, unknown>)[f] = v;
    }
    if (body.RestartPolicy && body.RestartPolicy.Name !== undefined) {
      if (hc.AutoRemove && body.RestartPolicy.Name !== 'no' && body.RestartPolicy.Name !== '') {
        throw new InvalidParameterError('Restart policy cannot be updated because AutoRemove is enabled for the container');
      }
      next.RestartPolicy = { Name: body.RestartPolicy.Name || 'no', MaximumRetryCount: body.RestartPolicy.MaximumRetryCount ?? 0 };
    }
    validateResources(next);
    if (next.Memory > 0 && hc.Memory === 0 && next.MemorySwap === 0 && c.isRunning()) next.MemorySwap = next.Memory * 2;
    if (hc.Memory > 0 && next.Memory > 0 && next.Memory > (next.MemorySwap > 0 ? next.MemorySwap : Infinity)) {
      throw new InvalidParameterError('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    await c.lock.run(async () => {
      if (c.isRunning()) {
        const res: Record<string, unknown> = {};
        if (next.Memory !== hc.Memory || next.MemorySwap !== hc.MemorySwap || next.MemoryReservation !== hc.MemoryReservation) {
          res.memory = { limit: next.Memory > 0 ? next.Memory : -1, swap: next.MemorySwap !== 0 ? next.MemorySwap : next.Memory > 0 ? next.Memory * 2 : -1, reservation: next.MemoryReservation || undefined };
        }
        const cpu: Record<string, unknown> = {};
        if (next.CpuShares !== hc.CpuShares) cpu.shares = next.CpuShares;
        if (next.NanoCpus !== hc.NanoCpus) {
          cpu.period = 100000;
          cpu.quota = next.NanoCpus > 0 ? Math.round((next.NanoCpus * 100000) / 1e9) : -1;
        }
        if (next.CpuPeriod !== hc.CpuPeriod && next.CpuPeriod > 0) cpu.period = next.CpuPeriod;
        if (next.CpuQuota !== hc.CpuQuota) cpu.quota = next.CpuQuota === 0 ? -1 : next.CpuQuota;
        if (next.CpusetCpus !== hc.CpusetCpus) cpu.cpus = next.CpusetCpus;
        if (next.CpusetMems !== hc.CpusetMems) cpu.mems = next.CpusetMems;
        if (Object.keys(cpu).length > 0) res.cpu = cpu;
        if (next.PidsLimit !== hc.PidsLimit) res.pids = { limit: next.PidsLimit && next.PidsLimit > 0 ? next.PidsLimit : -1 };
        if (next.BlkioWeight !== hc.BlkioWeight) res.blockIO = { weight: next.BlkioWeight };
        if (Object.keys(res).length > 0) await this.d.runtimes.for(c).update(c.id, res);
      }
      c.record.hostConfig = next;
      await this.d.store.save(c);
    });
    this.event(c, 'update');
    return [];
  }

  // ---- wait -------------------------------------------------------------

  /**
   * Registers a waiter for a condition. Returns a promise for the result;
   * the caller flushes response headers right after this returns (the CLI
   * sends start only once it has them).
   */
  wait(idOrName: string, condition: WaitCondition): Promise<WaitResponse> {
    const c = this.d.store.get(idOrName);
    const result = (code: number, error?: string): WaitResponse => ({ StatusCode: code, Error: error ? { Message: error } : null });
    switch (condition) {
      case 'not-running':
        if (!c.isRunning() && c.status !== 'restarting') return Promise.resolve(result(c.record.state.exitCode));
        return c.onNextExit().then((e) => result(e.exitCode, e.error));
      case 'next-exit':
        return c.onNextExit().then((e) => result(e.exitCode, e.error));
      case 'removed':
        return c.onRemoved().then((e) => result(e.exitCode, e.error));
    }
  }

  // ---- logs rotation ----------------------------------------------------

  /** json-file max-size/max-file: rotate logs of running containers that grew past their limit. */
  private async rotateLogs(): Promise<void> {
    for (const c of this.d.store.all()) {
      if (!c.isRunning()) continue;
      const { maxSize, maxFile } = this.logLimits(c);
      if (maxSize <= 0 || maxFile <= 1) continue;
      let size: number;
      try {
        size = fs.statSync(c.record.logPath).size;
      } catch {
        continue;
      }
      if (size < maxSize) continue;
      try {
        await rotateLogFiles(c.record.logPath, maxFile);
        if (maxFile > 1) reopenLog(this.bundleDir(c.id));
      } catch (err) {
        this.d.log.debug('log rotation failed', { container: c.id, err: messageOf(err) });
      }
    }
  }

  // ---- events -------------------------------------------------------------

  event(c: Container, action: string, extra: Record<string, string> = {}): void {
    const image = c.record.config.Image;
    this.d.events.publish('container', action, c.id, { ...c.record.config.Labels, image, name: c.name, ...extra });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => {
    setTimeout(r, ms).unref();
  });
}
