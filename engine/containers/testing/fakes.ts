/**
 * In-memory stand-ins for what the container lifecycle drives — the runtime, networking,
 * volumes, filesystems, images — so unit tests (and the builder's, later) exercise every
 * transition without runc, conmon or root. Each fake records the calls it received.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Container, MonitorRef } from '../container.js';
import type { ContainerRuntime, CreatedProcess, ExecProcess, ExecProcessOptions, ExitListener, Leftovers, ReleasedProcess, RuntimeCreateOptions } from '../runtime.js';
import type { ContainerFilesystems, ContainerNetworking, ContainerVolumes, LifecycleDeps, NetworkPlan } from '../lifecycle.js';
import type { StdinChannel } from '../attach.js';
import type { Clock } from '../restart-policy.js';
import { ContainerStore } from '../store.js';
import { EventBus } from '../../events/bus.js';
import type { DaemonConfig } from '../../daemon/config.js';
import type { Logger } from '../../daemon/log.js';
import type { Image } from '../../images/store.js';

export type Call = [string, ...unknown[]];

/** A gate a test opens when it wants a blocked step to continue. */
export class Gate {
  private release!: () => void;
  private fail!: (err: Error) => void;
  readonly opened: Promise<void>;
  constructor() {
    this.opened = new Promise<void>((resolve, reject) => {
      this.release = resolve;
      this.fail = reject;
    });
  }
  open(): void {
    this.release();
  }
  reject(err: Error): void {
    this.fail(err);
  }
}

export class FakeRuntime implements ContainerRuntime {
  readonly calls: Call[] = [];
  private nextPid = 1000;
  private listener: ExitListener | undefined;
  readonly exits = new Map<string, { code: number; at: number }>();
  readonly alive = new Set<number>();
  readonly leftoverOf = new Map<string, Leftovers>();
  /** Make the next create fail with this error. */
  failCreate: Error | undefined;
  /** Make create wait for this gate (a start in progress). */
  createGate: Gate | undefined;
  /** Signals that end the process (reported as an exit with 128+signal). */
  fatalSignals = new Set([9, 15, 2]);
  private readonly running = new Map<string, number>();

  async create(c: Container, o: RuntimeCreateOptions): Promise<CreatedProcess> {
    this.calls.push(['create', c.id]);
    o.onSpawned?.();
    if (this.createGate) await this.createGate.opened;
    if (this.failCreate) {
      const err = this.failCreate;
      this.failCreate = undefined;
      throw err;
    }
    const pid = this.nextPid++;
    const monitor = this.nextPid++;
    this.alive.add(monitor);
    return { pid, monitor: { pid: monitor, startTime: String(monitor) } };
  }

  async start(c: Container, pid: number): Promise<void> {
    this.calls.push(['start', c.id, pid]);
    this.running.set(c.id, pid);
  }

  async signal(c: Container, sig: number): Promise<void> {
    this.calls.push(['signal', c.id, sig]);
    if (this.fatalSignals.has(sig) && this.running.has(c.id)) setImmediate(() => this.exit(c.id, 128 + sig));
  }

  async pause(c: Container): Promise<void> {
    this.calls.push(['pause', c.id]);
  }

  async resume(c: Container): Promise<void> {
    this.calls.push(['resume', c.id]);
  }

  async update(c: Container, resources: object): Promise<void> {
    this.calls.push(['update', c.id, resources]);
  }

  async release(c: Container): Promise<ReleasedProcess> {
    this.calls.push(['release', c.id]);
    return { oomKilled: false };
  }

  async destroy(c: Container): Promise<void> {
    this.calls.push(['destroy', c.id]);
    this.running.delete(c.id);
    this.leftoverOf.delete(c.id);
    this.exits.delete(c.id);
  }

  leftovers(c: Container): Leftovers {
    return this.leftoverOf.get(c.id) ?? { monitor: false, state: false, bundle: false };
  }

  monitorAlive(ref: MonitorRef): boolean {
    return this.alive.has(ref.pid);
  }

  async pids(): Promise<number[]> {
    return [];
  }

  resizeTerminal(c: Container, h: number, w: number): void {
    this.calls.push(['resize', c.id, h, w]);
  }

  stdinChannel(): StdinChannel {
    throw new Error('no stdin in the fake runtime');
  }

  closeStdin(): void {}

  async exec(_c: Container, _o: ExecProcessOptions): Promise<ExecProcess> {
    throw new Error('no exec in the fake runtime');
  }

  watchExits(listener: ExitListener): void {
    this.listener = listener;
    for (const [id, e] of [...this.exits]) listener(id, e.code, e.at);
  }

  exitOf(id: string): { code: number; at: number } | undefined {
    return this.exits.get(id);
  }

  clearExit(id: string): void {
    this.exits.delete(id);
  }

  async init(): Promise<void> {}

  shutdown(): void {}

  /** The container's process exits with `code` (its monitor writes the exit file). */
  exit(id: string, code: number, at = Date.now()): void {
    this.running.delete(id);
    this.exits.set(id, { code, at });
    this.listener?.(id, code, at);
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }
}

export class FakeNetworking implements ContainerNetworking {
  readonly calls: Call[] = [];
  /** Containers holding a namespace/lease right now. */
  readonly holding = new Set<string>();
  validateMode(mode: string): void {
    if (mode.startsWith('container:') && mode.length === 'container:'.length) throw new Error('Invalid network mode');
  }
  initialEndpoints(): Record<string, never> {
    return {};
  }
  async creating(): Promise<void> {}
  async prepare(c: Container): Promise<NetworkPlan> {
    this.calls.push(['prepare', c.id]);
    this.holding.add(c.id);
    return { netnsPath: '', etc: { hosts: '127.0.0.1\tlocalhost\n', hostname: `${c.record.config.Hostname}\n`, resolvConf: '' }, env: [] };
  }
  launching(c: Container): void {
    this.calls.push(['launching', c.id]);
  }
  async created(c: Container, pid: number): Promise<void> {
    this.calls.push(['created', c.id, pid]);
  }
  async released(c: Container): Promise<void> {
    this.calls.push(['released', c.id]);
    this.holding.delete(c.id);
  }
}

export class FakeVolumes implements ContainerVolumes {
  readonly calls: Call[] = [];
  verifyHostPaths(): void {}
  async creating(): Promise<void> {}
  async mounts(): Promise<[]> {
    return [];
  }
  async exited(c: Container): Promise<void> {
    this.calls.push(['exited', c.id]);
  }
  async removed(c: Container, o: { volumes: boolean }): Promise<void> {
    this.calls.push(['removed', c.id, o.volumes]);
  }
}

/** Root filesystems as plain directories with a passwd file (no overlay, no mount). */
export class FakeFilesystems implements ContainerFilesystems {
  readonly mounted = new Set<string>();
  readonly calls: Call[] = [];
  constructor(private readonly root: string) {}
  private dir(id: string): string {
    return path.join(this.root, id);
  }
  async create(id: string): Promise<void> {
    fs.mkdirSync(path.join(this.dir(id), 'etc'), { recursive: true });
    fs.writeFileSync(path.join(this.dir(id), 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    fs.writeFileSync(path.join(this.dir(id), 'etc', 'group'), 'root:x:0:\n');
  }
  async mount(id: string): Promise<string> {
    this.calls.push(['mount', id]);
    this.mounted.add(id);
    return this.dir(id);
  }
  async unmount(id: string): Promise<void> {
    this.calls.push(['unmount', id]);
    this.mounted.delete(id);
  }
  isMounted(id: string): boolean {
    return this.mounted.has(id);
  }
  async remove(id: string): Promise<void> {
    this.calls.push(['remove', id]);
    this.mounted.delete(id);
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }
  async removeUnknown(known: Set<string>): Promise<void> {
    for (const name of fs.existsSync(this.root) ? fs.readdirSync(this.root) : []) if (!known.has(name)) await this.remove(name);
  }
}

/** A clock whose timers run when the test says so. */
export class ManualClock implements Clock {
  private seq = 0;
  readonly timers = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { fn, ms });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Delays of the pending timers. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.ms);
  }
  /** Runs every pending timer. */
  fire(): void {
    const due = [...this.timers.values()];
    this.timers.clear();
    for (const t of due) t.fn();
  }
}

export const silentLog: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  enabled: () => false,
  setLevel: () => undefined,
  with() {
    return silentLog;
  },
} as unknown as Logger;

export const testImage: Image = {
  id: 'sha256:' + 'a'.repeat(64),
  topLayer: null,
  config: { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [] } },
  record: {},
} as unknown as Image;

export interface FakeEngine {
  deps: LifecycleDeps;
  runtime: FakeRuntime;
  networking: FakeNetworking;
  volumes: FakeVolumes;
  filesystems: FakeFilesystems;
  clock: ManualClock;
  events: EventBus;
  store: ContainerStore;
  dir: string;
  cleanup(): Promise<void>;
}

/** Removes a test's directory, retrying while background writes (record saves, trash removal) finish. */
async function removeDir(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A lifecycle over fakes, with a real container store in a temp dir (records are plain JSON files). */
export function fakeEngine(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-lifecycle-'))): FakeEngine {
  const runtime = new FakeRuntime();
  const networking = new FakeNetworking();
  const volumes = new FakeVolumes();
  const filesystems = new FakeFilesystems(path.join(dir, 'rootfs'));
  const clock = new ManualClock();
  const events = new EventBus();
  const store = new ContainerStore(path.join(dir, 'containers'), silentLog);
  const config = { logDriver: 'json-file', logOpts: {}, defaultUlimits: {}, initPath: 'docker-init' } as unknown as DaemonConfig;
  const deps: LifecycleDeps = {
    config,
    log: silentLog,
    events,
    images: { get: () => testImage, lookup: () => testImage, setLayerUsers: () => undefined, collectOrphanLayers: async () => undefined },
    layers: { has: () => true },
    store,
    filesystems,
    runtime,
    runtimeNames: { resolveName: (n) => n || 'runc' },
    networking,
    volumes,
    clock,
  };
  return { deps, runtime, networking, volumes, filesystems, clock, events, store, dir, cleanup: () => removeDir(dir) };
}
