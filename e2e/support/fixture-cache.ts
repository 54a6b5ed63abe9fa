/**
 * Cached test fixtures that are expensive to build (rootfs tars, mmdebstrap outputs). A cache entry
 * is trusted only when it proves itself, because a CI run on a developer's machine inherits
 * whatever earlier runs left in /tmp:
 *
 * - its name carries a hash of everything it was built from (`key`), so a changed recipe or input
 *   builds a new entry instead of reusing a stale one;
 * - it is written under a temporary name in the same folder and renamed into place only after it
 *   validated, so a crash or a concurrent worker never leaves a partial entry under the real name;
 * - on reuse it must be a regular file and pass the same validation (a tar is a tar), else it is
 *   removed and rebuilt.
 *
 * BERTH_E2E_CACHE points the cache elsewhere (scripts/fresh-check.sh gives it an empty folder).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const cacheDir = path.resolve(process.env.BERTH_E2E_CACHE ?? path.join(os.tmpdir(), 'berth-e2e-cache'));

/** A short hash of a fixture's inputs: recipe version strings, file contents, command lines. */
export function fixtureKey(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p) : p).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** True when `file` is a regular file that tar lists to the end without an error. */
export function isCompleteTar(file: string): boolean {
  try {
    if (!fs.lstatSync(file).isFile()) return false;
    const listing = execFileSync('tar', ['-tf', file], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
    return listing.length > 0;
  } catch {
    return false;
  }
}

export interface CachedTar {
  /** Base name, e.g. "debian-minbase"; the entry is `<name>-<key>.tar`. */
  name: string;
  key: string;
  /** Writes the tar at `tmpPath`, which ends in `.tar` (tools such as mmdebstrap pick their output format from it). */
  build: (tmpPath: string) => void;
}

/** The path of a cache entry without building it (its name is fixed by name and key). */
export function cachedTarPath(spec: Pick<CachedTar, 'name' | 'key'>): string {
  return path.join(cacheDir, `${spec.name}-${spec.key}.tar`);
}

/** Returns a validated tar for `spec`, building it when it is missing or not a complete tar. */
export function cachedTar(spec: CachedTar): string {
  const out = cachedTarPath(spec);
  if (isCompleteTar(out)) return out;
  fs.mkdirSync(cacheDir, { recursive: true });
  // Whatever sits under the real name (a directory, a truncated file) is not trusted.
  fs.rmSync(out, { recursive: true, force: true });
  const tmp = path.join(cacheDir, `.${spec.name}-${spec.key}.${process.pid}.${Date.now()}.tar`);
  try {
    spec.build(tmp);
    if (!isCompleteTar(tmp)) throw new Error(`fixture ${spec.name}: the build did not produce a complete tar at ${tmp}`);
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
