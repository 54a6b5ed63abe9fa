import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Container, initialState, type ContainerRecord } from './container.js';
import { HealthMonitor, probeCommand, type HealthHost, type ProbeResult } from './health.js';
import { goDuration } from './health-exec.js';
import { ContainerStateMachine } from './state.js';

const S = 1_000_000_000;

function container(healthcheck: ContainerRecord['config']['Healthcheck'], shell?: string[]): Container {
  const state = { ...initialState(), status: 'running' as const, startedAt: new Date(Date.now()).toISOString() };
  return new Container({ id: 'c'.repeat(64), name: 'hc', config: { Healthcheck: healthcheck, ...(shell ? { Shell: shell } : {}) }, state } as unknown as ContainerRecord);
}

/** A host whose probes answer from a script; records events and writes. */
function fakeHost(answers: Array<ProbeResult | 'hang'>) {
  const events: string[] = [];
  const probes: Array<{ cmd: string[]; timeoutMs: number }> = [];
  let saves = 0;
  const host: HealthHost = {
    probe: (_c, cmd, timeoutMs) => {
      probes.push({ cmd, timeoutMs });
      const a = answers.shift() ?? { exitCode: 0, output: '' };
      if (a === 'hang') return new Promise((resolve) => setTimeout(() => resolve({ exitCode: -1, output: `Health check exceeded timeout (${goDuration(timeoutMs)})` }), timeoutMs));
      return Promise.resolve(a);
    },
    commit: async (_c, still, apply) => {
      if (!still()) return;
      apply();
      saves++;
    },
    event: (_c, action) => events.push(action),
    warn: () => undefined,
  };
  return { host, events, probes, saves: () => saves };
}

describe('probeCommand', () => {
  it('maps CMD, CMD-SHELL (with the config Shell) and NONE as moby does', () => {
    expect(probeCommand({ Test: ['CMD', 'wget', '-q', 'x'] }, null)).toEqual(['wget', '-q', 'x']);
    expect(probeCommand({ Test: ['CMD-SHELL', 'exit 1'] }, null)).toEqual(['/bin/sh', '-c', 'exit 1']);
    expect(probeCommand({ Test: ['CMD-SHELL', 'exit 1'] }, ['/bin/ash', '-eo'])).toEqual(['/bin/ash', '-eo', 'exit 1']);
    expect(probeCommand({ Test: ['NONE'] }, null)).toBeUndefined();
    expect(probeCommand({ Test: [] }, null)).toBeUndefined();
    expect(probeCommand(undefined, null)).toBeUndefined();
  });
});

describe('HealthMonitor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starting → healthy on the first success, one event per change, results written', async () => {
    const { host, events, probes, saves } = fakeHost([{ exitCode: 0, output: 'ok' }, { exitCode: 0, output: 'ok' }]);
    const m = new HealthMonitor(host);
    const c = container({ Test: ['CMD', 'true'], Interval: 1 * S });
    m.watch(c, false);
    expect(c.record.state.health).toEqual({ Status: 'starting', FailingStreak: 0, Log: [] });
    await vi.advanceTimersByTimeAsync(999);
    expect(probes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(probes).toEqual([{ cmd: ['true'], timeoutMs: 30_000 }]);
    expect(c.record.state.health!.Status).toBe('healthy');
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.record.state.health!.Log).toHaveLength(2);
    expect(c.record.state.health!.Log[0]).toMatchObject({ ExitCode: 0, Output: 'ok' });
    expect(c.record.state.health!.Log[0]!.Start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(events).toEqual(['health_status: healthy']);
    expect(saves()).toBe(2);
    m.unwatchAll();
  });

  it('unhealthy after Retries consecutive failures; a success resets the streak; keeps the last 5 results', async () => {
    const fail = { exitCode: 1, output: 'bad' };
    const { host, events } = fakeHost([fail, fail, { exitCode: 0, output: '' }, fail, fail, fail, fail]);
    const m = new HealthMonitor(host);
    const c = container({ Test: ['CMD-SHELL', 'exit 1'], Interval: 1 * S, Retries: 3 });
    m.watch(c, false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.record.state.health).toMatchObject({ Status: 'starting', FailingStreak: 2 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.record.state.health).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
    await vi.advanceTimersByTimeAsync(3000);
    expect(c.record.state.health).toMatchObject({ Status: 'unhealthy', FailingStreak: 3 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.record.state.health!.FailingStreak).toBe(4);
    expect(c.record.state.health!.Log).toHaveLength(5);
    expect(events).toEqual(['health_status: healthy', 'health_status: unhealthy']);
    m.unwatchAll();
  });

  it('failures within the start period do not count while starting; probes use StartInterval then', async () => {
    const fail = { exitCode: 1, output: '' };
    const { host, probes } = fakeHost([fail, fail, fail, fail, fail]);
    const m = new HealthMonitor(host);
    const c = container({ Test: ['CMD', 'false'], Interval: 10 * S, StartPeriod: 3 * S, StartInterval: 1 * S, Retries: 1 });
    m.watch(c, false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(probes).toHaveLength(2);
    expect(c.record.state.health).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    await vi.advanceTimersByTimeAsync(1000);
    // The third probe starts at 3 s: out of the start period, so it counts (Retries 1).
    expect(c.record.state.health).toMatchObject({ Status: 'unhealthy', FailingStreak: 1 });
    // From now on the normal interval.
    await vi.advanceTimersByTimeAsync(9000);
    expect(probes).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(probes).toHaveLength(4);
    m.unwatchAll();
  });

  it("a probe past its timeout is a failure with moby's message; defaults are 30 s / 30 s / 3", async () => {
    const { host, probes } = fakeHost(['hang']);
    const m = new HealthMonitor(host);
    const c = container({ Test: ['CMD', 'sleep', '100'], Timeout: 2 * S, Interval: 1 * S });
    m.watch(c, false);
    await vi.advanceTimersByTimeAsync(3000);
    expect(probes[0]!.timeoutMs).toBe(2000);
    expect(c.record.state.health!.Log[0]).toMatchObject({ ExitCode: -1, Output: 'Health check exceeded timeout (2s)' });
    expect(c.record.state.health!.FailingStreak).toBe(1);
    m.unwatchAll();
    const d = fakeHost([]);
    const m2 = new HealthMonitor(d.host);
    m2.watch(container({ Test: ['CMD', 'true'] }), false);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(d.probes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(d.probes[0]!.timeoutMs).toBe(30_000);
    m2.unwatchAll();
  });

  it('no monitor for NONE or no healthcheck; unwatch stops probing and drops an in-flight result', async () => {
    const { host, probes, saves } = fakeHost(['hang']);
    const m = new HealthMonitor(host);
    const none = container({ Test: ['NONE'] });
    m.watch(none, false);
    expect(none.record.state.health).toBeUndefined();
    expect(m.watching(none.id)).toBe(false);
    const c = container({ Test: ['CMD', 'x'], Interval: 1 * S, Timeout: 5 * S });
    m.watch(c, false);
    await vi.advanceTimersByTimeAsync(1500);
    expect(probes).toHaveLength(1);
    m.unwatch(c.id);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probes).toHaveLength(1);
    expect(saves()).toBe(0);
    expect(c.record.state.health!.Log).toEqual([]);
  });

  it('a restart resets status and streak but keeps the log; a restore keeps the persisted state', async () => {
    const { host } = fakeHost([]);
    const m = new HealthMonitor(host);
    const c = container({ Test: ['CMD', 'x'], Interval: 1 * S });
    const log = [{ Start: 'a', End: 'b', ExitCode: 1, Output: '' }];
    c.record.state.health = { Status: 'unhealthy', FailingStreak: 7, Log: log };
    m.watch(c, true);
    expect(c.record.state.health).toEqual({ Status: 'unhealthy', FailingStreak: 7, Log: log });
    m.watch(c, false);
    expect(c.record.state.health).toEqual({ Status: 'starting', FailingStreak: 0, Log: log });
    m.unwatchAll();
  });

  it('results for a container that stopped running meanwhile are not written', async () => {
    const { host, saves } = fakeHost([{ exitCode: 0, output: '' }]);
    const m = new HealthMonitor(host);
    const c = container({ Test: ['CMD', 'x'], Interval: 1 * S });
    m.watch(c, false);
    c.record.state.status = 'exited';
    await vi.advanceTimersByTimeAsync(1000);
    expect(saves()).toBe(0);
    expect(c.record.state.health!.Status).toBe('starting');
    m.unwatchAll();
  });
});

describe('goDuration', () => {
  it('formats like Go', () => {
    expect(goDuration(30_000)).toBe('30s');
    expect(goDuration(1500)).toBe('1.5s');
    expect(goDuration(500)).toBe('500ms');
    expect(goDuration(90_000)).toBe('1m30s');
  });
});

describe('HealthMonitor.follow', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('follows the state machine: start resets to starting, restore keeps the persisted state, exit and rm stop probing', async () => {
    const { host, probes } = fakeHost([]);
    const m = new HealthMonitor(host);
    const sm = new ContainerStateMachine();
    const off = m.follow(sm);
    const c = container({ Test: ['CMD', 'true'], Interval: 1 * S });
    c.record.state.status = 'created';
    sm.setRunning(c, { pid: 42, monitor: { pid: 41, startTime: '7' } });
    expect(m.watching(c.id)).toBe(true);
    expect(c.record.state.health?.Status).toBe('starting');
    await vi.advanceTimersByTimeAsync(1000);
    expect(probes).toHaveLength(1);
    sm.setStopped(c, { exitCode: 0, oomKilled: false });
    expect(m.watching(c.id)).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(probes).toHaveLength(1);

    // Found running after a daemon restart: the persisted status stands and probing resumes.
    const r = container({ Test: ['CMD', 'true'], Interval: 1 * S });
    r.record.state.health = { Status: 'healthy', FailingStreak: 0, Log: [] };
    sm.setRestored(r);
    expect(m.watching(r.id)).toBe(true);
    expect(r.record.state.health.Status).toBe('healthy');
    r.record.state.status = 'exited';
    sm.setRemoving(r);
    expect(m.watching(r.id)).toBe(false);
    off();
  });
});
