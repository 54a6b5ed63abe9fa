/**
 * Test images made from Debian packages: a busybox root filesystem built
 * from busybox-static (no Docker Hub anywhere).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cachedTar, fixtureKey } from './fixture-cache.js';

export function findBusybox(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (fs.existsSync(p)) return p;
  throw new Error('busybox not found: apt-get install busybox-static');
}

/** The cache key of the busybox rootfs: the busybox binary and this file (the recipe), read as source so every runner agrees. */
export function busyboxRootfsKey(): string {
  let binary: Buffer | string = 'busybox-missing';
  try {
    binary = fs.readFileSync(findBusybox());
  } catch {
    /* ensureBusyboxRootfs says what to install */
  }
  return fixtureKey(binary, fs.readFileSync(import.meta.filename));
}

/** The busybox rootfs tar, built (and validated) when the cache has no good copy. */
export function ensureBusyboxRootfs(): string {
  findBusybox();
  return cachedTar({ name: 'busybox-rootfs', key: busyboxRootfsKey(), build: buildBusyboxRootfs });
}

/** Writes a tar of a minimal busybox rootfs (applets as symlinks, passwd/group, /tmp). */
export function buildBusyboxRootfs(outTar: string): void {
  const dir = fs.mkdtempSync(path.join(path.dirname(outTar), 'rootfs-'));
  try {
    for (const d of ['bin', 'etc', 'tmp', 'root', 'home', 'var', 'usr/bin', 'sbin']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
    fs.copyFileSync(findBusybox(), path.join(dir, 'bin', 'busybox'));
    fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
    const applets = execFileSync(findBusybox(), ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) fs.symlinkSync('busybox', path.join(dir, 'bin', a));
    fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
    fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nuser:x:1000:\nstaff:x:50:user\nnogroup:x:65534:\n');
    execFileSync('tar', ['--numeric-owner', '-C', dir, '-cf', outTar, '.']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
