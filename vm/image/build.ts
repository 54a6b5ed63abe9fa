#!/usr/bin/env node
/**
 * `npm run vm:build` (or `berth vm build`): builds the VM image for one or both architectures into
 * the image store, reusing each part whose inputs have not changed. A second build with the same
 * inputs only checks the Debian archive's InRelease and the payload's hash: seconds, no rebuild.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { GuestArch } from '../host/qemu-args.js';
import { archiveState, baseKey, buildBase, recipeKey } from './base.js';
import { buildPayload, stagePayload } from './payload.js';
import { ImageStore, type Manifest } from './store.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

export interface BuildImageOptions {
  arch: GuestArch;
  store?: ImageStore;
  mirror?: string;
  log?: (msg: string) => void;
  /** Keep the current base (whatever its key) and rebuild only the payload: quick iterations on berthd and the agent. */
  payloadOnly?: boolean;
  signal?: AbortSignal;
}

export interface PartResult {
  key: string;
  reused: boolean;
  seconds: number;
  bytes: number;
}

export interface BuildImageResult {
  arch: GuestArch;
  base: PartResult & { kernelRelease: string | undefined };
  payload: PartResult;
  /** kernel + initramfs + root + payload */
  bootBytes: number;
  seconds: number;
}

/** The repository root and build output this module runs from (dist/vm/image → dist → repo). */
export function layout(): { repoRoot: string; distRoot: string } {
  const distRoot = path.resolve(here, '..', '..');
  let repoRoot = path.dirname(distRoot);
  while (!fs.existsSync(path.join(repoRoot, 'vm', 'guest', 'init.sh'))) {
    const up = path.dirname(repoRoot);
    if (up === repoRoot) throw new Error(`cannot find the Berth source tree above ${distRoot}`);
    repoRoot = up;
  }
  return { repoRoot, distRoot };
}

const bytesOf = (m: Manifest) => Object.values(m.files).reduce((a, f) => a + f.size, 0);

export async function buildImage(o: BuildImageOptions): Promise<BuildImageResult> {
  const started = Date.now();
  const store = o.store ?? new ImageStore();
  const log = o.log ?? (() => undefined);
  const mirror = o.mirror ?? process.env.BERTH_VM_MIRROR ?? DEFAULT_MIRROR;
  const { repoRoot, distRoot } = layout();
  const initScript = path.join(repoRoot, 'vm/image/assets/initramfs-init');
  const rk = recipeKey(initScript);

  // Base: keyed by the recipe and the archive state; offline, the newest valid build of this recipe.
  let key: string;
  const current = o.payloadOnly ? store.current(o.arch) : undefined;
  if (o.payloadOnly && !current) throw new Error(`--payload-only: there is no current ${o.arch} image to keep the base of`);
  try {
    key = current ? current.base : baseKey(rk, await archiveState(mirror, o.arch));
  } catch (err) {
    const prefix = `base-${o.arch}-${rk}-`;
    const offline = fs.existsSync(store.dir)
      ? fs.readdirSync(store.dir).filter((n) => n.startsWith(prefix) && !store.problem(path.join(store.dir, n), false)).sort((a, b) => fs.statSync(path.join(store.dir, b)).mtimeMs - fs.statSync(path.join(store.dir, a)).mtimeMs)[0]
      : undefined;
    if (!offline) throw new Error(`cannot read the Debian archive's state (${(err as Error).message}) and no earlier base image of this recipe exists`);
    log(`base ${o.arch}: ${(err as Error).message}; using the last build of this recipe`);
    key = offline.slice(`base-${o.arch}-`.length);
  }
  const baseStart = Date.now();
  const baseEntry = store.entryDir('base', o.arch, key);
  const baseProblem = store.problem(baseEntry, true);
  if (baseProblem && fs.existsSync(baseEntry)) log(`base ${o.arch}: rebuilding (${baseProblem})`);
  const baseManifest = baseProblem ? await buildBase({ arch: o.arch, store, mirror, initScript, log, ...(o.signal ? { signal: o.signal } : {}) }, key) : store.readManifest(baseEntry)!;
  const base = { key, reused: !baseProblem, seconds: (Date.now() - baseStart) / 1000, bytes: bytesOf(baseManifest), kernelRelease: baseManifest.kernelRelease };

  const payloadStart = Date.now();
  const staged = await stagePayload({ arch: o.arch, store, repoRoot, distRoot, log });
  let payloadManifest: Manifest;
  let payloadReused: boolean;
  try {
    const entry = store.entryDir('payload', o.arch, staged.key);
    payloadReused = store.problem(entry, true) === undefined;
    payloadManifest = payloadReused ? store.readManifest(entry)! : buildPayload({ arch: o.arch, store, repoRoot, distRoot, log }, staged);
  } finally {
    staged.cleanup();
  }
  const payload = { key: staged.key, reused: payloadReused, seconds: (Date.now() - payloadStart) / 1000, bytes: bytesOf(payloadManifest) };
  store.setCurrent({ arch: o.arch, base: key, payload: staged.key });
  return { arch: o.arch, base, payload, bootBytes: base.bytes + payload.bytes, seconds: (Date.now() - started) / 1000 };
}

/** Removes image parts that no architecture's current image uses. */
export function pruneImages(store: ImageStore): string[] {
  const keep = (['amd64', 'arm64'] as const).map((a) => store.current(a)).filter((c) => c !== undefined);
  return store.prune(keep);
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export function describeBuild(r: BuildImageResult): string {
  const part = (name: string, p: PartResult) => `${name} ${p.reused ? 'reused' : 'built'} in ${p.seconds.toFixed(1)} s (${mib(p.bytes)}, ${p.key})`;
  return `${r.arch}: ${part('base', r.base)}; ${part('payload', r.payload)}; kernel ${r.base.kernelRelease ?? '?'}; ${mib(r.bootBytes)} in all, ${r.seconds.toFixed(1)} s`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { arch: { type: 'string', default: 'amd64' }, images: { type: 'string' }, mirror: { type: 'string' }, json: { type: 'boolean' }, 'payload-only': { type: 'boolean' } }, strict: true });
  const arches: GuestArch[] = values.arch === 'all' ? ['amd64', 'arm64'] : values.arch === 'amd64' || values.arch === 'arm64' ? [values.arch] : [];
  if (!arches.length) throw new Error(`--arch must be amd64, arm64 or all, not "${values.arch}"`);
  const store = new ImageStore(values.images ? path.resolve(values.images) : undefined);
  const log = (m: string) => process.stderr.write(`vm build: ${m}\n`);
  // Independent architectures build side by side (each is mostly waiting on downloads and one core).
  // One failing architecture stops the other (its mmdebstrap is killed and cleans up).
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  process.once('SIGTERM', () => ac.abort());
  const results = await Promise.all(
    arches.map((arch) =>
      buildImage({ arch, store, log, signal: ac.signal, payloadOnly: values['payload-only'] === true, ...(values.mirror ? { mirror: values.mirror } : {}) }).catch((err: unknown) => {
        ac.abort();
        throw err;
      }),
    ),
  );
  for (const removed of pruneImages(store)) log(`removed unused ${removed}`);
  if (values.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else for (const r of results) process.stdout.write(`${describeBuild(r)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    process.stderr.write(`vm build: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
