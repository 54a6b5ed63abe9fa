import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '../daemon/log.js';
import { liveLink, LogKeeper, logLimits, logSize, prepareLog } from './log-rotation.js';

/** What conmon does at max-size: a new file renamed over the log. */
function conmonCut(logPath: string, content: string): void {
  fs.writeFileSync(`${logPath}.tmp`, content);
  fs.renameSync(`${logPath}.tmp`, logPath);
}

describe('log limits and the files the monitor cuts', () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logrot-'));
    log = path.join(dir, 'container.log');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('defaults to 20m × 5 as Docker\'s local driver; json-file semantics otherwise; -1 is unlimited', () => {
    expect(logLimits({ Type: 'json-file', Config: {} })).toEqual({ maxSize: 20 * 1024 * 1024, maxFile: 5 });
    expect(logLimits({ Type: 'local', Config: {} })).toEqual({ maxSize: 20 * 1024 * 1024, maxFile: 5 });
    expect(logLimits({ Type: 'json-file', Config: { 'max-size': '1m' } })).toEqual({ maxSize: 1024 * 1024, maxFile: 1 });
    expect(logLimits({ Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '3' } })).toEqual({ maxSize: 10 * 1024, maxFile: 3 });
    expect(logLimits({ Type: 'json-file', Config: { 'max-size': '-1' } })).toEqual({ maxSize: 0, maxFile: 1 });
  });

  it('keeps each cut file, shifting them, never more than max-file', () => {
    const limits = { maxSize: 100, maxFile: 3 };
    const keeper = new LogKeeper(() => [], new Logger('error'));
    const k = { id: 'c1', logPath: log, limits };
    fs.writeFileSync(log, 'first\n');
    keeper.check(k);
    expect(fs.statSync(liveLink(log)).ino).toBe(fs.statSync(log).ino);
    for (const content of ['second\n', 'third\n', 'fourth\n']) {
      conmonCut(log, content);
      keeper.check(k);
    }
    expect(fs.readFileSync(log, 'utf8')).toBe('fourth\n');
    expect(fs.readFileSync(`${log}.1`, 'utf8')).toBe('third\n');
    expect(fs.readFileSync(`${log}.2`, 'utf8')).toBe('second\n');
    expect(fs.existsSync(`${log}.3`)).toBe(false);
    expect(fs.statSync(liveLink(log)).ino).toBe(fs.statSync(log).ino);
    // The live link is the same inode: counted once.
    expect(logSize(log, 3)).toBe('fourth\nthird\nsecond\n'.length);
  });

  it('a reader listing the directory never sees a kept file missing while files are shifted', async () => {
    const limits = { maxSize: 100, maxFile: 4 };
    const keeper = new LogKeeper(() => [], new Logger('error'));
    const k = { id: 'c1', logPath: log, limits };
    fs.writeFileSync(log, '0\n');
    keeper.check(k);
    for (let i = 1; i <= 3; i++) {
      conmonCut(log, `${i}\n`);
      keeper.check(k);
    }
    // Another process lists the directory as fast as it can (the shift runs in this one).
    const { spawn } = await import('node:child_process');
    const reader = spawn(process.execPath, ['-e', `
      const fs = require('fs'); const want = ['container.log', 'container.log.1', 'container.log.2', 'container.log.3'];
      let lists = 0, gaps = 0; const end = Date.now() + 1500;
      process.stdout.write('ready\\n');
      while (Date.now() < end) { const l = fs.readdirSync(process.argv[1]).filter((f) => f.startsWith('container.log')); lists++; if (want.some((w) => !l.includes(w))) gaps++; }
      process.stdout.write(JSON.stringify({ lists, gaps }));
    `, dir]);
    let out = '';
    reader.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise<void>((resolve) => reader.stdout.once('data', () => resolve()));
    const until = Date.now() + 1200;
    let cuts = 0;
    while (Date.now() < until) {
      conmonCut(log, `${cuts++}\n`);
      keeper.check(k);
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => reader.once('close', r));
    const { lists, gaps } = JSON.parse(out.replace(/^ready\n/, '')) as { lists: number; gaps: number };
    expect(cuts).toBeGreaterThan(100);
    expect(lists).toBeGreaterThan(100);
    expect(gaps).toBe(0);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('container.log')).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2', 'container.log.3']);
  });

  it('a restart starts a fresh file when the old one is large (small ones are appended to); the log has its second name from the start', () => {
    const limits = { maxSize: 100, maxFile: 3 };
    fs.writeFileSync(log, 'x'.repeat(10));
    prepareLog(log, limits);
    expect(fs.readFileSync(log, 'utf8')).toBe('x'.repeat(10));
    expect(fs.statSync(liveLink(log)).ino).toBe(fs.statSync(log).ino);
    fs.appendFileSync(log, 'y'.repeat(50));
    prepareLog(log, limits);
    expect(fs.readFileSync(`${log}.1`, 'utf8')).toBe('x'.repeat(10) + 'y'.repeat(50));
    expect(fs.readFileSync(log, 'utf8')).toBe('');
    expect(fs.statSync(liveLink(log)).ino).toBe(fs.statSync(log).ino);
    // The very first file conmon cuts is kept.
    const keeper = new LogKeeper(() => [], new Logger('error'));
    conmonCut(log, 'after-cut\n');
    keeper.check({ id: 'c', logPath: log, limits });
    expect(fs.readFileSync(`${log}.1`, 'utf8')).toBe('');
    expect(fs.readFileSync(`${log}.2`, 'utf8')).toBe('x'.repeat(10) + 'y'.repeat(50));
  });
});

describe('LogKeeper timer', () => {
  afterEach(() => vi.useRealTimers());

  it('is off while no container runs, and checks a started one until it stops running', () => {
    vi.useFakeTimers();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logkeep-'));
    try {
      const k = { id: 'c1', logPath: path.join(dir, 'container.log'), limits: { maxSize: 100, maxFile: 3 } };
      fs.writeFileSync(k.logPath, '');
      let running: Array<typeof k> = [];
      const keeper = new LogKeeper(() => running, new Logger('error'));
      keeper.start();
      expect(vi.getTimerCount()).toBe(1); // the first look, for containers that ran before a restart
      vi.advanceTimersByTime(1000);
      expect(vi.getTimerCount()).toBe(0); // nothing runs: no wake-ups at all
      running = [k];
      keeper.started(k);
      expect(vi.getTimerCount()).toBe(1);
      // A cut while it runs: the keeper shifts it to .1 within a few ticks.
      fs.writeFileSync(k.logPath, 'x'.repeat(100));
      vi.advanceTimersByTime(50);
      fs.writeFileSync(`${k.logPath}.tmp`, 'y\n');
      fs.renameSync(`${k.logPath}.tmp`, k.logPath);
      vi.advanceTimersByTime(2000);
      expect(fs.readFileSync(`${k.logPath}.1`, 'utf8')).toBe('x'.repeat(100));
      expect(vi.getTimerCount()).toBe(1);
      running = [];
      vi.advanceTimersByTime(2000);
      expect(vi.getTimerCount()).toBe(0);
      keeper.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
