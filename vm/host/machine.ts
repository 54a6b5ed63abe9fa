/**
 * The VM's state machine, in one place: stopped → starting (QEMU, kernel, init, engine) → running
 * → stopping → stopped, and error (QEMU exited, the guest stopped answering, a start that failed)
 * with the console's tail. It drives a VmProvider, so every transition is unit-tested against a
 * fake (machine.test.ts). Accelerators are tried in order (accelerator.ts): one that gives no sign
 * of life in time is abandoned for the next and remembered as bad.
 */
import { EventEmitter } from 'node:events';
import { firstWorking, AcceleratorFailed, type AcceleratorVerdicts } from './accelerator.js';
import type { AgentChannel } from './agent-channel.js';
import type { Accelerator } from './qemu-args.js';
import type { VmInstance, VmProvider } from './provider.js';

export type VmState = 'stopped' | 'starting' | 'running' | 'stopping' | 'error';

/** Milliseconds from launch: QEMU up (QMP), kernel done (stage 1 runs), agent connected, berthd answering. */
export interface BootTimings {
  qemuMs: number;
  kernelMs: number;
  initMs: number;
  engineMs: number;
  totalMs: number;
  /** The guest's own uptime at its markers (seconds), when printed. */
  guestUptime: Partial<Record<'stage1' | 'stage2' | 'agent' | 'engineReady', number>>;
}

export interface VmStatus {
  state: VmState;
  step?: string;
  error?: string;
  consoleTail?: string;
  accelerator?: Accelerator;
  acceleratorNotes: string[];
  timings?: BootTimings;
  since?: number;
  qemuPid?: number;
}

export interface MachineOptions {
  provider: VmProvider;
  candidates: Accelerator[];
  acceleratorNotes?: string[];
  verdicts?: Pick<AcceleratorVerdicts, 'remember'>;
  log?: (m: string) => void;
  /** How long an accelerated guest may take to show life (stage 1 marker) before the next accelerator is tried. */
  signOfLifeMs?: number;
  /** Boot budget under tcg (and for the last candidate): until the agent answers. */
  bootTimeoutMs?: number;
  engineTimeoutMs?: number;
  /** The same under software emulation, where node itself starts many times slower. */
  tcgEngineTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** How long a closed agent channel waits for QEMU's exit before it is reported as the failure. */
  channelCloseGraceMs?: number;
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
  /** Consecutive missed health pings before the guest counts as hung. */
  healthMisses?: number;
  now?: () => number;
}

export class VmError extends Error {
  constructor(
    message: string,
    readonly code: 'already-running' | 'busy' | 'boot-failed' | 'not-running' = 'boot-failed',
  ) {
    super(message);
  }
}

export class VmMachine extends EventEmitter {
  private current: VmStatus = { state: 'stopped', acceleratorNotes: [] };
  private instance: VmInstance | undefined;
  private agentChannel: AgentChannel | undefined;
  private health: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly now: () => number;
  private readonly log: (m: string) => void;

  constructor(private readonly o: MachineOptions) {
    super();
    // Monotonic: these are durations and an order of events, which a wall-clock step (sleep, NTP) must not bend.
    this.now = o.now ?? (() => performance.now());
    this.log = o.log ?? (() => undefined);
    this.current.acceleratorNotes = o.acceleratorNotes ?? [];
  }

  status(): VmStatus {
    return { ...this.current };
  }

  /** The live agent channel while running. */
  channel(): AgentChannel | undefined {
    return this.current.state === 'running' ? this.agentChannel : undefined;
  }

  private set(patch: Partial<VmStatus> & { state: VmState }): void {
    const keep = { acceleratorNotes: this.current.acceleratorNotes, ...(this.current.accelerator && patch.state !== 'stopped' ? { accelerator: this.current.accelerator } : {}) };
    this.current = { ...keep, ...patch };
    if (patch.state !== 'error') delete this.current.consoleTail;
    this.emit('change', this.status());
  }

  async start(): Promise<VmStatus> {
    const s = this.current.state;
    if (s === 'running') throw new VmError(`the Berth VM is already running (${this.current.accelerator ?? '?'}, since ${new Date(this.current.since ?? 0).toISOString()}); use \`berth vm restart\` to restart it`, 'already-running');
    if (s === 'starting' || s === 'stopping') throw new VmError(`the Berth VM is ${s}; wait for it to finish`, 'busy');
    this.stopping = false;
    const t0 = this.now();
    this.set({ state: 'starting', step: 'Starting QEMU' });
    const guestUptime: BootTimings['guestUptime'] = {};
    let qemuAt = 0;
    let kernelAt = 0;
    try {
      const { accelerator, result: inst } = await firstWorking(
        this.o.candidates,
        async (accel) => {
          this.set({ state: 'starting', step: 'Starting QEMU', accelerator: accel });
          this.current.accelerator = accel;
          const inst = await this.o.provider.launch(accel);
          qemuAt = this.now();
          this.set({ state: 'starting', step: 'Booting the kernel', accelerator: accel, ...(inst.pid ? { qemuPid: inst.pid } : {}) });
          const last = accel === this.o.candidates.at(-1);
          const limit = last ? (this.o.bootTimeoutMs ?? 120_000) : (this.o.signOfLifeMs ?? 10_000);
          const life = await race(inst.marker('stage1'), inst.exited, limit);
          if (life.kind === 'timeout' || life.kind === 'exit') {
            inst.kill();
            await inst.exited;
            const why = life.kind === 'timeout' ? `the guest showed no sign of life within ${Math.round(limit / 1000)} s with ${accel}` : `QEMU exited during boot with ${accel} (${describeExit(life.value)})`;
            if (!last) throw new AcceleratorFailed(accel, why);
            throw new VmError(`${why}\n${inst.consoleTail(30)}`);
          }
          guestUptime.stage1 = life.value;
          return inst;
        },
        (f) => {
          this.log(`accelerator ${f.accelerator} failed: ${f.reason}; trying the next one`);
          this.current.acceleratorNotes = [...this.current.acceleratorNotes, `${f.accelerator}: failed (${f.reason})`];
          this.o.verdicts?.remember(f);
        },
      );
      kernelAt = this.now();
      this.instance = inst;
      this.watchExit(inst);
      this.set({ state: 'starting', step: 'Starting the engine', accelerator, ...(inst.pid ? { qemuPid: inst.pid } : {}) });
      const remaining = () => Math.max(1000, (this.o.bootTimeoutMs ?? 120_000) - (this.now() - t0));
      const channel = await abortOnExit(inst, inst.connectAgent(remaining()), 'the guest agent');
      this.agentChannel = channel;
      const agentAt = this.now();
      void inst.marker('stage2').then((u) => (guestUptime.stage2 = u));
      void inst.marker('agent').then((u) => (guestUptime.agent = u));
      const engineTimeout = accelerator === 'tcg' ? (this.o.tcgEngineTimeoutMs ?? 300_000) : (this.o.engineTimeoutMs ?? 90_000);
      const deadline = this.now() + engineTimeout;
      while (!(await channel.enginePing(5000))) {
        if (this.stopping || this.current.state !== 'starting') throw new VmError('the start was interrupted');
        if (this.now() > deadline) throw new VmError(`berthd in the VM did not answer within ${Math.round(engineTimeout / 1000)} s`);
        await sleep(100);
      }
      const readyAt = this.now();
      void inst.marker('engine-ready').then((u) => (guestUptime.engineReady = u));
      const timings: BootTimings = { qemuMs: qemuAt - t0, kernelMs: kernelAt - qemuAt, initMs: agentAt - kernelAt, engineMs: readyAt - agentAt, totalMs: readyAt - t0, guestUptime };
      this.set({ state: 'running', accelerator, timings, since: readyAt, ...(inst.pid ? { qemuPid: inst.pid } : {}) });
      channel.once('close', () => {
        if (this.current.state !== 'running' || this.stopping) return;
        // QEMU dying (kill -9, a crash) closes the channel a moment before its exit is seen: give
        // the exit a chance to be the reason shown, else the channel itself is the failure.
        const inst = this.instance;
        const timer = setTimeout(() => {
          if (this.instance === inst && this.current.state === 'running' && !this.stopping) this.fail('the agent channel to the guest closed');
        }, this.o.channelCloseGraceMs ?? 2000);
        void inst?.exited.then(() => clearTimeout(timer));
      });
      this.startHealth(channel);
      return this.status();
    } catch (err) {
      const inst = this.instance;
      this.instance = undefined;
      this.agentChannel?.close();
      this.agentChannel = undefined;
      if (inst) {
        inst.kill();
        await inst.exited;
      }
      if (this.current.state !== 'error') {
        const tail = inst?.consoleTail(40);
        this.set({ state: 'error', error: (err as Error).message, ...(tail ? { consoleTail: tail } : {}) });
      }
      throw err instanceof VmError ? err : new VmError((err as Error).message);
    }
  }

  private watchExit(inst: VmInstance): void {
    void inst.exited.then((e) => {
      if (this.instance !== inst) return;
      this.instance = undefined;
      this.stopHealth();
      this.agentChannel?.close();
      this.agentChannel = undefined;
      if (this.stopping) return;
      const tail = inst.consoleTail(40);
      this.set({ state: 'error', error: `QEMU exited unexpectedly (${describeExit(e)})`, ...(tail ? { consoleTail: tail } : {}) });
    });
  }

  private fail(reason: string): void {
    const inst = this.instance;
    this.stopHealth();
    this.log(`VM failed: ${reason}`);
    const tail = inst?.consoleTail(40);
    this.instance = undefined;
    this.agentChannel?.close();
    this.agentChannel = undefined;
    this.set({ state: 'error', error: reason, ...(tail ? { consoleTail: tail } : {}) });
    inst?.kill();
  }

  private startHealth(channel: AgentChannel): void {
    this.stopHealth();
    let misses = 0;
    let busy = false;
    this.health = setInterval(() => {
      if (busy) return;
      busy = true;
      channel
        .ping(this.o.healthTimeoutMs ?? 10_000)
        .then(() => (misses = 0))
        .catch((err: Error) => {
          misses++;
          this.log(`health ping missed (${misses}): ${err.message}`);
          if (misses >= (this.o.healthMisses ?? 3) && this.current.state === 'running') this.fail(`the guest stopped answering (${misses} pings missed: ${err.message})`);
        })
        .finally(() => (busy = false));
    }, this.o.healthIntervalMs ?? 5000);
    this.health.unref?.();
  }

  private stopHealth(): void {
    if (this.health) clearInterval(this.health);
    this.health = undefined;
  }

  /** Presses the power button (the guest stops berthd and powers off), then kills QEMU after the timeout. */
  async stop(): Promise<VmStatus> {
    const inst = this.instance;
    if (this.current.state === 'stopping') throw new VmError('the Berth VM is already stopping', 'busy');
    if (!inst) {
      this.set({ state: 'stopped' });
      return this.status();
    }
    this.stopping = true;
    this.stopHealth();
    this.set({ state: 'stopping', step: 'Shutting down the guest' });
    const timeout = this.o.stopTimeoutMs ?? 30_000;
    try {
      await inst.powerdown();
    } catch (err) {
      this.log(`system_powerdown: ${(err as Error).message}`);
    }
    const r = await race(inst.exited, new Promise<never>(() => undefined), timeout);
    if (r.kind === 'timeout') {
      this.log(`the guest did not power off within ${Math.round(timeout / 1000)} s; killing QEMU`);
      inst.kill();
      await inst.exited;
    }
    this.agentChannel?.close();
    this.agentChannel = undefined;
    this.instance = undefined;
    this.stopping = false;
    this.set({ state: 'stopped' });
    return this.status();
  }

  async restart(): Promise<VmStatus> {
    await this.stop();
    return this.start();
  }
}

function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

type Raced<A, B> = { kind: 'value'; value: A } | { kind: 'exit'; value: B } | { kind: 'timeout' };

async function race<A, B>(a: Promise<A>, b: Promise<B>, ms: number): Promise<Raced<A, B>> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      a.then((value) => ({ kind: 'value' as const, value })),
      b.then((value) => ({ kind: 'exit' as const, value })),
      new Promise<{ kind: 'timeout' }>((r) => (t = setTimeout(() => r({ kind: 'timeout' }), ms))),
    ]);
  } finally {
    if (t) clearTimeout(t);
  }
}

async function abortOnExit<T>(inst: VmInstance, p: Promise<T>, what: string): Promise<T> {
  const r = await race(p, inst.exited, 24 * 3600_000);
  if (r.kind === 'value') return r.value;
  if (r.kind === 'exit') throw new VmError(`QEMU exited while waiting for ${what} (${describeExit(r.value)})`);
  throw new VmError(`timed out waiting for ${what}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
