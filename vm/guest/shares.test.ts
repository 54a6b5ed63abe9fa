import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelCommandLine } from '../host/qemu-args.js';
import { mountOptions, parseShares, writeEngineSharedPaths } from './shares.js';

describe('guest shares', () => {
  it('reads back what the host put on the kernel command line', () => {
    const line = kernelCommandLine({ guestArch: 'amd64', shares: [{ path: '/Users/ann', readOnly: false }, { path: '/Volumes/Data, old/ü', readOnly: true }] });
    expect(parseShares(line)).toEqual({
      cache: 'mmap',
      shares: [
        { tag: 'berth0', readOnly: false, path: '/Users/ann', transport: '9p' },
        { tag: 'berth1', readOnly: true, path: '/Volumes/Data, old/ü', transport: '9p' },
      ],
    });
    const vfs = kernelCommandLine({ guestArch: 'amd64', shares: [{ path: '/home/ann/virtiofs', readOnly: false, transport: 'virtiofs', socket: '/run/s' }] });
    expect(parseShares(vfs).shares).toEqual([{ tag: 'berth0', readOnly: false, path: '/home/ann/virtiofs', transport: 'virtiofs' }]);
    expect(parseShares(`${line} berth.9p-cache=loose`).cache).toBe('loose');
    expect(parseShares('berth.9p-cache=;rm berth.share=x,rw,/a berth.share=berth0,rw,relative').shares).toEqual([]);
  });

  it('9p options: 9p2000.L over virtio, a large msize, ro for read-only shares', () => {
    expect(mountOptions({ tag: 'berth0', readOnly: true, path: '/a', transport: '9p' }, 'mmap')).toBe('trans=virtio,version=9p2000.L,msize=512000,cache=mmap,access=client,ro');
    expect(mountOptions({ tag: 'berth0', readOnly: false, path: '/a', transport: '9p' }, 'loose')).not.toContain(',ro');
  });

  it('virtiofs options: the daemon caches, the guest only says ro or rw', () => {
    expect(mountOptions({ tag: 'berth0', readOnly: true, path: '/a', transport: 'virtiofs' }, 'mmap')).toBe('ro');
    expect(mountOptions({ tag: 'berth0', readOnly: false, path: '/a', transport: 'virtiofs' }, 'mmap')).toBe('rw');
  });

  it('writes shared-host-paths into daemon.json and keeps the rest', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shares-'));
    const file = path.join(dir, 'daemon.json');
    fs.writeFileSync(file, '{"debug":true}');
    writeEngineSharedPaths(file, ['/Users/ann']);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ debug: true, 'shared-host-paths': ['/Users/ann'] });
    writeEngineSharedPaths(path.join(dir, 'new', 'daemon.json'), []);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'new', 'daemon.json'), 'utf8'))).toEqual({ 'shared-host-paths': [] });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
