/** Where the e2e suite keeps its shared artifacts (built once per run). */
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const cacheDir = path.join(os.tmpdir(), 'berth-e2e-cache');
export const busyboxTar = path.join(cacheDir, 'busybox-rootfs.tar');
/** The build under test: dist/, or BERTH_DIST for parallel builds (see scripts/build.mjs). */
export const distDir = path.resolve(repoRoot, process.env.BERTH_DIST ?? 'dist');
export const berthdBin = path.join(distDir, 'engine', 'daemon', 'main.js');
