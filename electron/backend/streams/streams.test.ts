import { describe, expect, it } from 'vitest';
import { compareLogTime, formatLogTime, parseLogTime, stringToLogTime } from './logs.js';
import { sampleFromStats } from './stats.js';
import { progressEvent } from './pull.js';

describe('log timestamps', () => {
  it('parses RFC 3339 with nanoseconds and keeps the precision through since/until', () => {
    const t = parseLogTime('2024-05-01T10:20:30.123456789Z')!;
    expect(t).toEqual({ sec: Date.UTC(2024, 4, 1, 10, 20, 30) / 1000, nano: 123456789 });
    expect(formatLogTime(t)).toBe(`${t.sec}.123456789`);
    expect(stringToLogTime(formatLogTime(t))).toEqual(t);
    expect(parseLogTime('2024-05-01T10:20:30.5Z')!.nano).toBe(500_000_000);
    expect(parseLogTime('2024-05-01T12:20:30+02:00')!.sec).toBe(t.sec);
    expect(parseLogTime('nonsense')).toBeUndefined();
    expect(compareLogTime(t, { ...t, nano: t.nano + 1 })).toBeLessThan(0);
  });
});

describe('stats', () => {
  it('computes CPU and memory like docker stats', () => {
    const s = sampleFromStats({
      read: '2024-05-01T10:00:00Z',
      cpu_stats: { cpu_usage: { total_usage: 400 }, system_cpu_usage: 2000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 200 }, system_cpu_usage: 1000 },
      memory_stats: { usage: 1000, limit: 4000, stats: { inactive_file: 200 } },
      networks: { eth0: { rx_bytes: 10, tx_bytes: 20 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 5 }, { op: 'write', value: 7 }, { op: 'Total', value: 12 }] },
      pids_stats: { current: 3 },
    });
    expect(s).toEqual({ time: Date.parse('2024-05-01T10:00:00Z'), cpuPercent: 40, onlineCpus: 2, memUsage: 800, memLimit: 4000, netRx: 11, netTx: 22, blkRead: 5, blkWrite: 7, pids: 3 });
    expect(sampleFromStats({}, 5).cpuPercent).toBe(0);
  });
});

describe('pull progress', () => {
  it('maps the engine messages to layer, status and error events', () => {
    expect(progressEvent({ status: 'Pulling from library/busybox', id: 'latest' })).toEqual({ type: 'status', status: 'latest: Pulling from library/busybox' });
    expect(progressEvent({ status: 'Downloading', id: 'abc', progressDetail: { current: 5, total: 10 } })).toEqual({ type: 'layer', id: 'abc', status: 'Downloading', current: 5, total: 10 });
    expect(progressEvent({ status: 'Pull complete', id: 'abc', progressDetail: {} })).toEqual({ type: 'layer', id: 'abc', status: 'Pull complete' });
    expect(progressEvent({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' })).toEqual({ type: 'error', message: 'manifest unknown' });
    expect(progressEvent({})).toBeUndefined();
  });
});
