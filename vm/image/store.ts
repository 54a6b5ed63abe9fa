/**
 * Where built VM images live and how one is trusted. An image is two parts, cached apart because
 * they change at different speeds:
 *
 * - base-<arch>-<key>/: kernel, initramfs and the root squashfs, from Debian packages only. Its key
 *   hashes the recipe, the builder's own sources and the Debian archive state (the sha256 of the
 *   Packages index in the suite's InRelease), so the same packages give the same key.
 * - payload-<arch>-<key>/: berthd and the guest agent (the built dist) and their node_modules as a
 *   squashfs. Its key hashes every file that goes into it.
 *
 * Every entry has a manifest.json with each file's size and sha256, written last and renamed into
 * place with the folder, so a crash never leaves a half-built entry under a real name. Reuse checks
 * the manifest (full hashes at build time, sizes at VM start); `current-<arch>.json` names the
 * pair the runner boots.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GuestArch, VmImageFiles } from '../host/qemu-args.js';

export interface ManifestFile {
  size: number;
  sha256: string;
}

export interface Manifest {
  kind: 'base' | 'payload';
  arch: GuestArch;
  key: string;
  built: string;
  buildSeconds: number;
  files: Record<string, ManifestFile>;
  /** base: the kernel release and the Debian packages (name=version) inside. */
  kernelRelease?: string;
  packages?: string[];
}

export interface CurrentImage {
  arch: GuestArch;
  base: string;
  payload: string;
}

export function defaultImagesDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_VM_IMAGES) return path.resolve(env.BERTH_VM_IMAGES);
  if (env.BERTH_HOME) return path.join(path.resolve(env.BERTH_HOME), 'vm-images');
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'berth', 'vm-images');
}

export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

export class ImageStore {
  constructor(readonly dir: string = defaultImagesDir()) {}

  entryDir(kind: 'base' | 'payload', arch: GuestArch, key: string): string {
    return path.join(this.dir, `${kind}-${arch}-${key}`);
  }

  readManifest(entry: string): Manifest | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(entry, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
  }

  /**
   * Why an entry cannot be trusted, or undefined when it can. `deep` compares every file's sha256
   * (build time); otherwise sizes only (every VM start).
   */
  problem(entry: string, deep: boolean): string | undefined {
    const m = this.readManifest(entry);
    if (!m) return `${entry}: no readable manifest.json`;
    for (const [name, f] of Object.entries(m.files)) {
      const file = path.join(entry, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        return `${file} is missing`;
      }
      if (!st.isFile() || st.size !== f.size) return `${file} has ${st.size} bytes, the manifest says ${f.size}`;
      if (deep && sha256File(file) !== f.sha256) return `${file} does not match its sha256 in the manifest`;
    }
    return undefined;
  }

  /** Writes the manifest and moves a finished build folder to its real name (replacing a bad one). */
  publish(tmpDir: string, final: string, meta: Omit<Manifest, 'files'>): Manifest {
    const files: Record<string, ManifestFile> = {};
    for (const name of fs.readdirSync(tmpDir).sort()) {
      if (name === 'manifest.json') continue;
      const file = path.join(tmpDir, name);
      const st = fs.statSync(file);
      if (st.isFile()) files[name] = { size: st.size, sha256: sha256File(file) };
    }
    const manifest: Manifest = { ...meta, files };
    fs.writeFileSync(path.join(tmpDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    // A concurrent build of the same key may have published first: keep whichever is valid.
    if (fs.existsSync(final) && this.problem(final, true) === undefined) {
      fs.rmSync(tmpDir, { recursive: true, force: true });
      return this.readManifest(final)!;
    }
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(tmpDir, final);
    return manifest;
  }

  newTmpDir(kind: string, arch: GuestArch): string {
    fs.mkdirSync(this.dir, { recursive: true });
    return fs.mkdtempSync(path.join(this.dir, `.${kind}-${arch}-`));
  }

  setCurrent(c: CurrentImage): void {
    const file = path.join(this.dir, `current-${c.arch}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(c, null, 2) + '\n');
    fs.renameSync(tmp, file);
  }

  current(arch: GuestArch): CurrentImage | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, `current-${arch}.json`), 'utf8')) as CurrentImage;
    } catch {
      return undefined;
    }
  }

  /** The files the runner boots, checked (sizes) — or an error that says how to build them. */
  resolve(arch: GuestArch): VmImageFiles & { baseManifest: Manifest; payloadManifest: Manifest } {
    const c = this.current(arch);
    const hint = `build it with \`npm run vm:build -- --arch ${arch}\` (or \`berth vm build\`)`;
    if (!c) throw new ImageMissingError(`no VM image for ${arch} in ${this.dir}: ${hint}`);
    const base = this.entryDir('base', arch, c.base);
    const payload = this.entryDir('payload', arch, c.payload);
    for (const e of [base, payload]) {
      const p = this.problem(e, false);
      if (p) throw new ImageMissingError(`the VM image is damaged (${p}): ${hint}`);
    }
    return {
      kernel: path.join(base, 'vmlinuz'),
      initrd: path.join(base, 'initrd.img'),
      root: path.join(base, 'root.squashfs'),
      payload: path.join(payload, 'payload.squashfs'),
      baseManifest: this.readManifest(base)!,
      payloadManifest: this.readManifest(payload)!,
    };
  }

  /** Marks an entry as used now (its folder's mtime), for prune's `unusedForMs`. */
  touch(kind: 'base' | 'payload', arch: GuestArch, key: string): void {
    const now = new Date();
    fs.utimesSync(this.entryDir(kind, arch, key), now, now);
  }

  /**
   * Removes entries other than the current ones and stale temporary folders. With `unusedForMs`,
   * only entries not used (touched) for that long: a store several builds share (the e2e fixture
   * cache) keeps what a concurrent run of another build may still be linking.
   */
  prune(keep: CurrentImage[], o: { unusedForMs?: number } = {}): string[] {
    const wanted = new Set(keep.flatMap((c) => [path.basename(this.entryDir('base', c.arch, c.base)), path.basename(this.entryDir('payload', c.arch, c.payload))]));
    const removed: string[] = [];
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return removed;
    }
    for (const n of names) {
      const stale = n.startsWith('.') && fs.statSync(path.join(this.dir, n)).mtimeMs < Date.now() - 6 * 3600_000;
      const unused = /^(base|payload)-/.test(n) && !wanted.has(n) && (o.unusedForMs === undefined || fs.statSync(path.join(this.dir, n)).mtimeMs < Date.now() - o.unusedForMs);
      if (unused || stale) {
        fs.rmSync(path.join(this.dir, n), { recursive: true, force: true });
        removed.push(n);
      }
    }
    return removed;
  }
}

export class ImageMissingError extends Error {}
