import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLogLine, readLogs, type LogEntry } from './logs.js';

function line(i: number, stream = 'stdout', flag = 'F'): string {
  return `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}+00:00 ${stream} ${flag} line ${i}\n`;
}

async function collect(file: string, maxFiles: number, opts: Partial<Parameters<typeof readLogs>[2]> = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  await readLogs(file, maxFiles, { stdout: true, stderr: true, follow: false, ...opts }, (e) => {
    out.push({ ...e, content: Buffer.from(e.content) });
  });
  return out;
}

describe('container logs (k8s-file)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'));

  it('parses stream, partial flag and time', () => {
    const e = parseLogLine(Buffer.from(line(3, 'stderr', 'P').trimEnd()))!;
    expect(e.stream).toBe(2);
    expect(e.partial).toBe(true);
    expect(e.time).toBe('2026-01-01T00:00:03.000000003');
    expect(e.content.toString()).toBe('line 3');
  });

  it('tails exactly N lines, across rotated files', async () => {
    const f = path.join(dir, 'a.log');
    fs.writeFileSync(`${f}.1`, [1, 2, 3].map((i) => line(i)).join(''));
    fs.writeFileSync(f, [4, 5].map((i) => line(i)).join(''));
    for (const n of [0, 1, 2, 3, 4, 5, 9]) {
      const got = await collect(f, 2, { tail: n });
      const want = [1, 2, 3, 4, 5].slice(Math.max(0, 5 - n)).map((i) => `line ${i}`);
      expect(got.map((e) => e.content.toString())).toEqual(n === 0 ? [] : want);
    }
  });

  it('filters by stream and since/until', async () => {
    const f = path.join(dir, 'b.log');
    fs.writeFileSync(f, line(1) + line(2, 'stderr') + line(3) + line(4, 'stderr'));
    expect((await collect(f, 1, { stderr: false })).map((e) => e.content.toString())).toEqual(['line 1', 'line 3']);
    const got = await collect(f, 1, { since: '2026-01-01T00:00:02.000000002', until: '2026-01-01T00:00:03.000000003' });
    expect(got.map((e) => e.content.toString())).toEqual(['line 2', 'line 3']);
  });
});
