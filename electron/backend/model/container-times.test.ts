import { describe, expect, it } from 'vitest';
import { estimateTimes, parseHumanDuration, timesFromInspect, withTimes } from './container-times.js';
import { containerRow } from './mappers.js';

describe('container times', () => {
  const now = Date.UTC(2026, 0, 1, 12);
  it("reads Go's units.HumanDuration back", () => {
    expect(parseHumanDuration('Less than a second')).toBe(0);
    expect(parseHumanDuration('1 second')).toBe(1000);
    expect(parseHumanDuration('42 seconds')).toBe(42_000);
    expect(parseHumanDuration('About a minute')).toBe(60_000);
    expect(parseHumanDuration('5 minutes')).toBe(300_000);
    expect(parseHumanDuration('About an hour')).toBe(3_600_000);
    expect(parseHumanDuration('3 days')).toBe(3 * 86_400_000);
    expect(parseHumanDuration('soon')).toBeUndefined();
  });

  it('estimates start and finish times from the status string until inspect gives the exact ones', () => {
    expect(estimateTimes('Up 5 minutes', now)).toEqual({ startedAt: now - 300_000 });
    expect(estimateTimes('Up 2 hours (healthy)', now)).toEqual({ startedAt: now - 7_200_000, health: 'healthy' });
    expect(estimateTimes('Up 3 seconds (health: starting)', now)).toEqual({ startedAt: now - 3000, health: 'starting' });
    expect(estimateTimes('Up 10 seconds (Paused)', now)).toEqual({ startedAt: now - 10_000 });
    expect(estimateTimes('Exited (137) 2 minutes ago', now)).toEqual({ exitCode: 137, finishedAt: now - 120_000 });
    expect(estimateTimes('Restarting (1) 4 seconds ago', now)).toEqual({ exitCode: 1, finishedAt: now - 4000 });
    expect(estimateTimes('Created', now)).toEqual({});
  });

  it("takes inspect's StartedAt/FinishedAt, treating Go's zero time as never", () => {
    expect(timesFromInspect({ State: { StartedAt: '2026-01-01T11:59:00.5Z', FinishedAt: '0001-01-01T00:00:00Z', ExitCode: 0, Health: { Status: 'unhealthy' } } })).toEqual({
      startedAt: Date.UTC(2026, 0, 1, 11, 59, 0, 500),
      exitCode: 0,
      health: 'unhealthy',
    });
    expect(timesFromInspect({ State: { StartedAt: 'garbage' } })).toEqual({});
  });

  it('puts the times on a row, replacing old ones', () => {
    const row = containerRow({ Id: 'a', Names: ['/a'], Image: 'busybox', State: 'running', Status: 'Up 1 second', Created: 1, Labels: {}, Ports: [], Mounts: [], NetworkSettings: { Networks: {} } } as never);
    const timed = withTimes({ ...row, health: 'healthy', finishedAt: 5 }, { startedAt: 10 });
    expect(timed).toMatchObject({ startedAt: 10 });
    expect(timed.health).toBeUndefined();
    expect(timed.finishedAt).toBeUndefined();
  });
});
