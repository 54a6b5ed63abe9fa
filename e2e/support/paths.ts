/** Where the e2e suite keeps its shared artifacts (built once per run). */
import path from 'node:path';
import { cachedTarPath, cacheDir } from './fixture-cache.js';
import { busyboxRootfsKey } from './rootfs.js';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export { cacheDir };
/** The busybox rootfs tar (support/rootfs.ts), keyed by the busybox binary and the recipe; global setup builds it. */
export const busyboxTar = cachedTarPath({ name: 'busybox-rootfs', key: busyboxRootfsKey() });
/** The build under test: dist/, or BERTH_DIST for parallel builds (see scripts/build.mjs). */
export const distDir = path.resolve(repoRoot, process.env.BERTH_DIST ?? 'dist');
export const berthdBin = path.join(distDir, 'engine', 'daemon', 'main.js');
