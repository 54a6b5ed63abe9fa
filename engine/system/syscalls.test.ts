import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MNT_DETACH, sysMount, sysUnmount } from './syscalls.js';

const mounted = (dir: string) => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);

describe('mount(2) and umount2(2) through koffi', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syscalls-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('mounts with fs data and unmounts, as root', async () => {
    expect(await sysMount('berth-test', dir, 'tmpfs', 'size=1m,mode=700')).toBe(true);
    expect(mounted(dir)).toBe(true);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(await sysUnmount(dir)).toBe(true);
    expect(mounted(dir)).toBe(false);
  });

  it('detaches lazily, and says what failed with the system message', async () => {
    await sysMount('berth-test', dir, 'tmpfs', 'size=1m');
    expect(await sysUnmount(dir, MNT_DETACH)).toBe(true);
    expect(mounted(dir)).toBe(false);
    await expect(sysUnmount(dir)).rejects.toThrow(`umount ${dir}: Invalid argument`);
    await expect(sysMount('x', path.join(dir, 'missing'), 'tmpfs', '')).rejects.toThrow(/mount tmpfs on .*missing: No such file or directory/);
  });

  it('leaves data longer than a page to mount(8)', async () => {
    expect(await sysMount('x', dir, 'tmpfs', 'a'.repeat(5000))).toBe(false);
    expect(mounted(dir)).toBe(false);
  });
});
