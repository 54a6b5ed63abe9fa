/**
 * The VM image the vm e2e project boots: built by the product's own builder (vm/image/build.ts,
 * from the build under test) into an image store inside the fixture cache. The builder keys each
 * part by its inputs (recipe, builder sources, the Debian archive's state; the payload by every
 * file in it) and checks every file's sha256 against the part's manifest before reusing it, so a
 * cached image is validated, and a changed recipe or berthd build makes a new one. A fresh machine
 * builds it once (mmdebstrap, minutes); later runs reuse it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cacheDir } from './fixture-cache.js';
import { distDir } from './paths.js';

export const vmImagesDir = path.join(cacheDir, 'vm-images');

export interface VmImageBuild {
  arch: 'amd64' | 'arm64';
  base: { key: string; reused: boolean; seconds: number; bytes: number; kernelRelease: string | undefined };
  payload: { key: string; reused: boolean; seconds: number; bytes: number };
  bootBytes: number;
  seconds: number;
}

export async function ensureVmImage(arch: 'amd64' | 'arm64' = 'amd64', log: (m: string) => void = () => undefined): Promise<{ build: VmImageBuild; summary: string }> {
  const buildJs = path.join(distDir, 'vm', 'image', 'build.js');
  const storeJs = path.join(distDir, 'vm', 'image', 'store.js');
  if (!fs.existsSync(buildJs)) throw new Error(`${buildJs} is missing: run "npm run build" first`);
  const { buildImage, describeBuild } = (await import(buildJs)) as {
    buildImage: (o: { arch: string; store: unknown; log: (m: string) => void }) => Promise<VmImageBuild>;
    describeBuild: (r: VmImageBuild) => string;
  };
  const { ImageStore } = (await import(storeJs)) as {
    ImageStore: new (dir: string) => {
      touch(kind: 'base' | 'payload', arch: string, key: string): void;
      prune(keep: Array<{ arch: string; base: string; payload: string }>, o: { unusedForMs: number }): string[];
    };
  };
  const store = new ImageStore(vmImagesDir);
  const build = await buildImage({ arch, store, log });
  // Every build of the recipe or of berthd adds an image to the cache: what no run used for a day goes.
  store.touch('base', arch, build.base.key);
  store.touch('payload', arch, build.payload.key);
  for (const removed of store.prune([{ arch, base: build.base.key, payload: build.payload.key }], { unusedForMs: 24 * 3600_000 })) log(`removed ${removed} from the fixture cache (unused for a day)`);
  return { build, summary: describeBuild(build) };
}

/** Why the VM tests cannot run here (no QEMU for the guest), or undefined when they can. */
export async function vmUnavailable(arch: 'amd64' | 'arm64' = 'amd64'): Promise<string | undefined> {
  const { findQemu, qemuImgFor } = (await import(path.join(distDir, 'vm', 'host', 'qemu-binary.js'))) as { findQemu: (a: string) => string; qemuImgFor: (q: string) => string };
  try {
    qemuImgFor(findQemu(arch));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The image this run built, in a store of its own (hard links into the shared cache): the shared
 * store's `current-<arch>.json` is flipped by every concurrent run that builds a payload (other
 * worktrees, other specs), and a VM started or restarted from it may boot another build's guest.
 */
export async function ensurePrivateVmImage(dir: string, arch: 'amd64' | 'arm64' = 'amd64', log: (m: string) => void = () => undefined): Promise<{ build: VmImageBuild; summary: string }> {
  const r = await ensureVmImage(arch, log);
  const { ImageStore } = (await import(path.join(distDir, 'vm', 'image', 'store.js'))) as {
    ImageStore: new (dir: string) => { entryDir(kind: 'base' | 'payload', arch: string, key: string): string; setCurrent(c: { arch: string; base: string; payload: string }): void };
  };
  const shared = new ImageStore(vmImagesDir);
  const mine = new ImageStore(dir);
  fs.mkdirSync(dir, { recursive: true });
  for (const [kind, key] of [
    ['base', r.build.base.key],
    ['payload', r.build.payload.key],
  ] as const) {
    const from = shared.entryDir(kind, arch, key);
    const to = mine.entryDir(kind, arch, key);
    if (fs.existsSync(to)) continue;
    fs.mkdirSync(to);
    for (const name of fs.readdirSync(from)) fs.linkSync(path.join(from, name), path.join(to, name));
  }
  mine.setCurrent({ arch, base: r.build.base.key, payload: r.build.payload.key });
  return r;
}
