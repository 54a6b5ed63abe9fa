import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AcceleratorFailed } from './accelerator.js';
import type { AgentChannel } from './agent-channel.js';
import { VmMachine, type VmState } from './machine.js';
import type { ExitInfo, GuestMarker, VmInstance, VmProvider } from './provider.js';
import type { Accelerator } from './qemu-args.js';

/** A fake agent channel: answers engine pings and health pings as told. */
class FakeChannel extends EventEmitter {
  engineUp = true;
  alive = true;
  closed = false;
  async enginePing() {
    return this.engineUp;
  }
  async ping() {
    if (!this.alive) throw new Error('no answer');
    return 1;
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

/** A fake VM: markers, exit and power button under the test's control. */
class FakeInstance implements VmInstance {
  pid = 4242;
  private exit!: (e: ExitInfo) => void;
  readonly exited = new Promise<ExitInfo>((r) => (this.exit = r));
  private readonly markers = new Map<GuestMarker, (u: number) => void>();
  private readonly seen = new Map<GuestMarker, number>();
  channel = new FakeChannel();
  powerdowns = 0;
  killed = false;
  honoursPowerButton = true;
  constructor(readonly accelerator: Accelerator) {}
  emitMarker(m: GuestMarker, uptime = 1) {
    this.seen.set(m, uptime);
    this.markers.get(m)?.(uptime);
  }
  marker(m: GuestMarker) {
    const s = this.seen.get(m);
    if (s !== undefined) return Promise.resolve(s);
    return new Promise<number>((r) => this.markers.set(m, r));
  }
  async connectAgent() {
    return this.channel as unknown as AgentChannel;
  }
  async powerdown() {
    this.powerdowns++;
    if (this.honoursPowerButton) setTimeout(() => this.exit({ code: 0, signal: null }), 5);
  }
  async status() {
    return 'running';
  }
  kill() {
    this.killed = true;
    this.exit({ code: null, signal: 'SIGKILL' });
  }
  crash(code = 1) {
    this.exit({ code, signal: null });
  }
  consoleTail() {
    return `[console of ${this.accelerator}]`;
  }
}

class FakeProvider implements VmProvider {
  launched: FakeInstance[] = [];
  /** What each accelerator does: boot (print stage1), hang (no marker), refuse (QEMU rejects it). */
  behaviour: Partial<Record<Accelerator, 'boot' | 'hang' | 'refuse'>> = {};
  engineUp = true;
  async launch(a: Accelerator) {
    if (this.behaviour[a] === 'refuse') throw new AcceleratorFailed(a, `QEMU could not use ${a}`);
    const i = new FakeInstance(a);
    i.channel.engineUp = this.engineUp;
    this.launched.push(i);
    if ((this.behaviour[a] ?? 'boot') === 'boot') setTimeout(() => i.emitMarker('stage1', 0.8), 1);
    return i;
  }
}

const machine = (p: FakeProvider, candidates: Accelerator[] = ['kvm', 'tcg'], extra: Partial<ConstructorParameters<typeof VmMachine>[0]> = {}) => {
  const remembered: string[] = [];
  const m = new VmMachine({ provider: p, candidates, signOfLifeMs: 50, bootTimeoutMs: 2000, stopTimeoutMs: 100, healthIntervalMs: 10, healthTimeoutMs: 5, healthMisses: 2, verdicts: { remember: (f) => remembered.push(f.accelerator) }, ...extra });
  const states: VmState[] = [];
  m.on('change', (s: { state: VmState }) => {
    if (states.at(-1) !== s.state) states.push(s.state);
  });
  return { m, states, remembered };
};

describe('VmMachine', () => {
  it('stopped → starting → running, with the steps and the timings', async () => {
    const p = new FakeProvider();
    const { m, states } = machine(p);
    const steps: string[] = [];
    m.on('change', (s: { step?: string }) => s.step && steps.at(-1) !== s.step && steps.push(s.step));
    const s = await m.start();
    expect(s.state).toBe('running');
    expect(s.accelerator).toBe('kvm');
    expect(states).toEqual(['starting', 'running']);
    expect(steps).toEqual(['Starting QEMU', 'Booting the kernel', 'Starting the engine']);
    expect(s.timings?.totalMs).toBeGreaterThanOrEqual(0);
    expect(s.timings?.guestUptime.stage1).toBe(0.8);
    expect(m.channel()).toBeDefined();
  });

  it('a second start while running is refused with a clear message', async () => {
    const { m } = machine(new FakeProvider());
    await m.start();
    await expect(m.start()).rejects.toThrow(/already running .*berth vm restart/);
    expect(m.status().state).toBe('running');
  });

  it('an accelerator that hangs the guest is abandoned for the next, and remembered', async () => {
    const p = new FakeProvider();
    p.behaviour.kvm = 'hang';
    const { m, remembered } = machine(p);
    const s = await m.start();
    expect(s.accelerator).toBe('tcg');
    expect(p.launched.map((i) => i.accelerator)).toEqual(['kvm', 'tcg']);
    expect(p.launched[0]!.killed).toBe(true);
    expect(remembered).toEqual(['kvm']);
    expect(s.acceleratorNotes.join('\n')).toMatch(/kvm: failed \(the guest showed no sign of life/);
  });

  it('an accelerator QEMU refuses at once falls through to tcg', async () => {
    const p = new FakeProvider();
    p.behaviour.kvm = 'refuse';
    const { m } = machine(p);
    expect((await m.start()).accelerator).toBe('tcg');
  });

  it('the last candidate hanging is an error with the console tail', async () => {
    const p = new FakeProvider();
    p.behaviour.tcg = 'hang';
    const { m, states } = machine(p, ['tcg'], { bootTimeoutMs: 50 });
    await expect(m.start()).rejects.toThrow(/no sign of life/);
    expect(states).toEqual(['starting', 'error']);
    expect(m.status().error).toMatch(/\[console of tcg\]/);
  });

  it('berthd that never answers fails the start and kills QEMU', async () => {
    const p = new FakeProvider();
    const { m } = machine(p, ['tcg'], { tcgEngineTimeoutMs: 30 });
    p.engineUp = false;
    await expect(m.start()).rejects.toThrow(/berthd in the VM did not answer/);
    expect(m.status().state).toBe('error');
    expect(p.launched[0]!.killed).toBe(true);
  });

  it('QEMU exiting while running is an error with the console tail', async () => {
    const p = new FakeProvider();
    const { m, states } = machine(p, ['tcg']);
    await m.start();
    p.launched[0]!.crash(137);
    await new Promise((r) => setTimeout(r, 5));
    expect(states).toEqual(['starting', 'running', 'error']);
    expect(m.status()).toMatchObject({ state: 'error', error: 'QEMU exited unexpectedly (exit code 137)', consoleTail: '[console of tcg]' });
    expect(m.channel()).toBeUndefined();
  });

  it('QEMU killed (the channel closes first) reports the exit of QEMU, not the channel', async () => {
    const p = new FakeProvider();
    const { m, states } = machine(p, ['tcg'], { channelCloseGraceMs: 200 });
    await m.start();
    p.launched[0]!.channel.close();
    await new Promise((r) => setTimeout(r, 20));
    p.launched[0]!.crash(137);
    await new Promise((r) => setTimeout(r, 250));
    expect(states).toEqual(['starting', 'running', 'error']);
    expect(m.status()).toMatchObject({ state: 'error', error: 'QEMU exited unexpectedly (exit code 137)' });
  });

  it('the channel closing while QEMU runs on is an error and QEMU is killed', async () => {
    const p = new FakeProvider();
    const { m } = machine(p, ['tcg'], { channelCloseGraceMs: 20 });
    await m.start();
    p.launched[0]!.channel.close();
    await new Promise((r) => setTimeout(r, 60));
    expect(m.status()).toMatchObject({ state: 'error', error: 'the agent channel to the guest closed' });
    expect(p.launched[0]!.killed).toBe(true);
  });

  it('a guest that stops answering pings is an error and QEMU is killed', async () => {
    const p = new FakeProvider();
    const { m } = machine(p, ['tcg']);
    await m.start();
    p.launched[0]!.channel.alive = false;
    await new Promise((r) => setTimeout(r, 80));
    expect(m.status().state).toBe('error');
    expect(m.status().error).toMatch(/the guest stopped answering/);
    expect(p.launched[0]!.killed).toBe(true);
  });

  it('stop presses the power button and waits for QEMU to exit', async () => {
    const p = new FakeProvider();
    const { m, states } = machine(p, ['tcg']);
    await m.start();
    const s = await m.stop();
    expect(s.state).toBe('stopped');
    expect(p.launched[0]!.powerdowns).toBe(1);
    expect(p.launched[0]!.killed).toBe(false);
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
  });

  it('stop kills QEMU when the guest ignores the power button', async () => {
    const p = new FakeProvider();
    const { m } = machine(p, ['tcg']);
    await m.start();
    p.launched[0]!.honoursPowerButton = false;
    expect((await m.stop()).state).toBe('stopped');
    expect(p.launched[0]!.killed).toBe(true);
  });

  it('after an error (kill -9 of QEMU) the next start boots a new instance', async () => {
    const p = new FakeProvider();
    const { m } = machine(p, ['tcg']);
    await m.start();
    p.launched[0]!.crash();
    await new Promise((r) => setTimeout(r, 5));
    expect(m.status().state).toBe('error');
    expect((await m.start()).state).toBe('running');
    expect(p.launched).toHaveLength(2);
  });

  it('restart is stop then start', async () => {
    const p = new FakeProvider();
    const { m, states } = machine(p, ['tcg']);
    await m.start();
    await m.restart();
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped', 'starting', 'running']);
  });

  it('stop when stopped is a no-op', async () => {
    const { m } = machine(new FakeProvider());
    expect((await m.stop()).state).toBe('stopped');
  });
});
