import { describe, expect, it } from 'vitest';
import { RESTART_BACKOFF_MAX, RestartManager, restartsOnDaemonStart, shouldRestart } from './restart-policy.js';
import { ManualClock } from './testing/fakes.js';

const policy = (Name: string, MaximumRetryCount = 0) => ({ Name, MaximumRetryCount }) as Parameters<typeof shouldRestart>[0]['policy'];

describe('restart policies', () => {
  it("decide as Docker's do", () => {
    const f = (name: string, exitCode: number, restartCount = 0, manuallyStopped = false, max = 0) => shouldRestart({ policy: policy(name, max), exitCode, restartCount, manuallyStopped });
    expect(f('no', 1)).toBe(false);
    expect(f('', 1)).toBe(false);
    expect(f('always', 0)).toBe(true);
    expect(f('always', 0, 0, true)).toBe(false);
    expect(f('unless-stopped', 0)).toBe(true);
    expect(f('unless-stopped', 1, 0, true)).toBe(false);
    expect(f('on-failure', 0)).toBe(false);
    expect(f('on-failure', 1)).toBe(true);
    expect(f('on-failure', 1, 99)).toBe(true);
    expect(f('on-failure', 1, 2, false, 3)).toBe(true);
    expect(f('on-failure', 1, 3, false, 3)).toBe(false);
  });

  it('say which containers a daemon start restarts', () => {
    expect(restartsOnDaemonStart(policy('always'), false, false)).toBe(true);
    expect(restartsOnDaemonStart(policy('always'), true, false)).toBe(false);
    expect(restartsOnDaemonStart(policy('unless-stopped'), false, false)).toBe(true);
    expect(restartsOnDaemonStart(policy('unless-stopped'), true, false)).toBe(false);
    expect(restartsOnDaemonStart(policy('on-failure'), false, false)).toBe(false);
    expect(restartsOnDaemonStart(policy('no'), false, true)).toBe(true);
  });

  it('back off from 100 ms doubling to 60 s, reset by a 10 s run or by reset()', () => {
    const m = new RestartManager(new ManualClock());
    const seq = Array.from({ length: 12 }, () => m.nextDelay('a', 50));
    expect(seq).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, RESTART_BACKOFF_MAX, RESTART_BACKOFF_MAX]);
    expect(m.nextDelay('a', 10_000)).toBe(100);
    expect(m.nextDelay('b', 0)).toBe(100);
    m.reset('a');
    expect(m.nextDelay('a', 0)).toBe(100);
  });

  it('run a scheduled restart once, unless cancelled; scheduling again replaces the timer', () => {
    const clock = new ManualClock();
    const m = new RestartManager(clock);
    let runs = 0;
    m.schedule('a', 100, () => runs++);
    m.schedule('a', 200, () => runs++);
    expect(clock.pending()).toEqual([200]);
    expect(m.pending('a')).toBe(true);
    clock.fire();
    expect(runs).toBe(1);
    expect(m.pending('a')).toBe(false);
    m.schedule('a', 100, () => runs++);
    expect(m.cancel('a')).toBe(true);
    expect(m.cancel('a')).toBe(false);
    clock.fire();
    expect(runs).toBe(1);
    m.schedule('b', 100, () => runs++);
    m.shutdown();
    expect(clock.pending()).toEqual([]);
  });
});
