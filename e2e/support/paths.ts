/** Where the e2e suite keeps its shared artifacts (built once per run). */
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const cacheDir = path.join(os.tmpdir(), 'berth-e2e-cache');
export const busyboxTar = path.join(cacheDir, 'busybox-rootfs.tar');
export const berthdBin = path.join(repoRoot, 'dist', 'engine', 'daemon', 'main.js');
