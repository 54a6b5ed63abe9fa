/**
 * The base image from Debian packages only: mmdebstrap makes the root (essential set plus
 * RECIPE.packages) and, in a hook with the same apt configuration, downloads the kernel package;
 * the kernel's modules are cut to RECIPE.moduleDirs, the initramfs gets busybox (from the root),
 * stage 1's init and the few modules it needs to mount the root, and the root becomes a squashfs.
 * A foreign architecture (arm64 on an amd64 host) runs its maintainer scripts through
 * qemu-user-static (binfmt_misc).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GuestArch } from '../host/qemu-args.js';
import { RECIPE } from './recipe.js';
import type { ImageStore, Manifest } from './store.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Fixed timestamps inside the images, so the same inputs give the same bytes. */
export const SOURCE_DATE_EPOCH = '1735689600';

export interface BaseBuildOptions {
  arch: GuestArch;
  store: ImageStore;
  mirror: string;
  /** The stage-1 init script (vm/image/assets/initramfs-init in the source tree). */
  initScript: string;
  log: (msg: string) => void;
  /** Aborting kills the running tool (mmdebstrap cleans up after itself on SIGTERM). */
  signal?: AbortSignal;
}

/** The sha256 of each component's Packages index, as the suite's InRelease lists them. */
export async function archiveState(mirror: string, arch: GuestArch): Promise<string> {
  const url = `${mirror.replace(/\/$/, '')}/dists/${RECIPE.suite}/InRelease`;
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const text = await res.text();
  const sha = text.split('\nSHA256:')[1] ?? '';
  const wanted = RECIPE.components.map((c) => `${c}/binary-${arch}/Packages.xz`);
  const found = wanted.map((w) => sha.split('\n').find((l) => l.trim().endsWith(` ${w}`))?.trim().split(/\s+/)[0]);
  if (found.some((f) => !f)) throw new Error(`${url} does not list ${wanted.join(', ')}`);
  return found.join(',');
}

/** The part of the base key that does not depend on the archive: the recipe and this builder. */
export function recipeKey(initScript: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(RECIPE));
  for (const f of ['base.js', 'recipe.js']) h.update(fs.readFileSync(path.join(here, f)));
  h.update(fs.readFileSync(initScript));
  return h.digest('hex').slice(0, 12);
}

export function baseKey(recipe: string, archive: string): string {
  return `${recipe}-${createHash('sha256').update(archive).digest('hex').slice(0, 12)}`;
}

const execFileAsync = promisify(execFile);

async function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<string> {
  try {
    const r = await execFileAsync(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...opts });
    return r.stdout + r.stderr;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${cmd} failed: ${(e.stderr ?? '').trim().split('\n').slice(-8).join('\n') || e.message}`);
  }
}

export async function buildBase(o: BaseBuildOptions, key: string): Promise<Manifest> {
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `berth-vm-base-${o.arch}-`));
  const out = o.store.newTmpDir('base', o.arch);
  try {
    const rootfs = path.join(work, 'rootfs');
    const kernelDir = path.join(work, 'kernel');
    fs.mkdirSync(kernelDir);
    const meta = RECIPE.kernelMeta[o.arch];
    // Runs on the host with the chroot's apt configuration (mmdebstrap unsets APT_CONFIG for hooks).
    const hook = [
      'set -e',
      'export APT_CONFIG="$MMDEBSTRAP_APT_CONFIG"',
      `pkg=$(apt-cache depends ${meta} | sed -n 's/^ *Depends: \\(linux-image-[0-9][^ ]*\\)$/\\1/p' | head -n1)`,
      `[ -n "$pkg" ] || { echo "no kernel package behind ${meta}" >&2; exit 1; }`,
      `cd '${kernelDir}' && apt-get -q -o APT::Sandbox::User=root download "$pkg"`,
      `dpkg-query --admindir="$1/var/lib/dpkg" -W -f='\${Package}=\${Version}\\n' > '${work}/packages.txt'`,
    ].join('\n');
    o.log(`base ${o.arch}: mmdebstrap ${RECIPE.suite} (${RECIPE.packages.length} packages + essential)`);
    await run('mmdebstrap', [
      '--quiet',
      '--variant=essential',
      `--architectures=${o.arch}`,
      `--components=${RECIPE.components.join(',')}`,
      `--include=${RECIPE.packages.join(',')}`,
      // The tree becomes a squashfs at the end: fsync per file only slows the build down.
      '--dpkgopt=force-unsafe-io',
      ...RECIPE.pathExcludes.map((p) => `--dpkgopt=path-exclude=${p}`),
      ...RECIPE.pathIncludes.map((p) => `--dpkgopt=path-include=${p}`),
      `--customize-hook=${hook}`,
      RECIPE.suite,
      rootfs,
      o.mirror,
    ], o.signal ? { signal: o.signal } : {});
    const debs = fs.readdirSync(kernelDir).filter((f) => f.endsWith('.deb'));
    if (debs.length !== 1) throw new Error(`expected one kernel package, found ${debs.join(', ') || 'none'}`);
    const kx = path.join(work, 'kx');
    await run('dpkg-deb', ['-x', path.join(kernelDir, debs[0]!), kx]);
    const modRoot = fs.existsSync(path.join(kx, 'usr/lib/modules')) ? path.join(kx, 'usr/lib/modules') : path.join(kx, 'lib/modules');
    const kver = fs.readdirSync(modRoot)[0];
    if (!kver) throw new Error('the kernel package has no modules folder');
    fs.copyFileSync(path.join(kx, 'boot', `vmlinuz-${kver}`), path.join(out, 'vmlinuz'));

    // Modules: the recipe's subset of the kernel's, then depmod for the root.
    const src = path.join(modRoot, kver);
    const dst = path.join(rootfs, 'usr/lib/modules', kver);
    fs.rmSync(dst, { recursive: true, force: true });
    fs.mkdirSync(path.join(dst, 'kernel'), { recursive: true });
    for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
      if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(dst, f));
    }
    for (const d of RECIPE.moduleDirs) {
      const from = path.join(src, 'kernel', d);
      const candidates = [from, `${from}.xz`, from.replace(/\.ko$/, '.ko.xz'), from.replace(/\.ko$/, '.ko.zst')];
      const hit = candidates.find((c) => fs.existsSync(c));
      if (!hit) continue; // not built as a module on this architecture (built in, or absent)
      const to = path.join(dst, 'kernel', path.relative(path.join(src, 'kernel'), hit));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.cpSync(hit, to, { recursive: true });
    }
    await run('depmod', ['-b', rootfs, kver]);

    // Initramfs: busybox, stage 1, and the modules to mount the root, decompressed, in load order.
    const ird = path.join(work, 'initramfs');
    fs.mkdirSync(path.join(ird, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(ird, 'modules'));
    fs.copyFileSync(path.join(rootfs, 'usr/bin/busybox'), path.join(ird, 'bin/busybox'));
    fs.chmodSync(path.join(ird, 'bin/busybox'), 0o755);
    fs.copyFileSync(o.initScript, path.join(ird, 'init'));
    fs.chmodSync(path.join(ird, 'init'), 0o755);
    const order = moduleLoadOrder(fs.readFileSync(path.join(dst, 'modules.dep'), 'utf8'), RECIPE.initramfsModules);
    const names: string[] = [];
    for (const rel of order) {
      const name = path.basename(rel).replace(/\.ko(\.xz|\.zst)?$/, '.ko');
      const data = rel.endsWith('.xz') ? execFileSync('xz', ['-dc', path.join(dst, rel)], { maxBuffer: 64 * 1024 * 1024 }) : rel.endsWith('.zst') ? execFileSync('zstd', ['-dcq', path.join(dst, rel)], { maxBuffer: 64 * 1024 * 1024 }) : fs.readFileSync(path.join(dst, rel));
      fs.writeFileSync(path.join(ird, 'modules', name), data);
      names.push(name);
    }
    fs.writeFileSync(path.join(ird, 'modules', 'order'), names.join('\n') + '\n');
    await run('sh', ['-c', `cd '${ird}' && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible -R 0:0 | gzip -9n > '${path.join(out, 'initrd.img')}'`]);

    // The root: no kernel image, no package caches; read-only squashfs.
    for (const p of ['boot', 'var/cache/apt', 'var/lib/apt/lists', 'var/log']) {
      fs.rmSync(path.join(rootfs, p), { recursive: true, force: true });
      fs.mkdirSync(path.join(rootfs, p), { recursive: true });
    }
    fs.mkdirSync(path.join(rootfs, 'opt/berth'), { recursive: true });
    fs.mkdirSync(path.join(rootfs, 'var/lib/berth'), { recursive: true });
    o.log(`base ${o.arch}: mksquashfs`);
    await run('mksquashfs', [rootfs, path.join(out, 'root.squashfs'), '-noappend', '-no-progress', '-quiet', ...RECIPE.squashfsOptions], { env: { ...process.env, SOURCE_DATE_EPOCH } });
    const packages = fs.readFileSync(path.join(work, 'packages.txt'), 'utf8').trim().split('\n');
    packages.push(debs[0]!.replace(/\.deb$/, '').replace(/_/g, '=').replace(/=[^=]+$/, ''));
    return o.store.publish(out, o.store.entryDir('base', o.arch, key), {
      kind: 'base',
      arch: o.arch,
      key,
      built: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 100) / 10,
      kernelRelease: kver,
      packages,
    });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Paths (relative to the modules folder) of `wanted` and their dependencies, dependencies first. */
export function moduleLoadOrder(modulesDep: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const [mod, rest] = line.split(':');
    if (!mod || rest === undefined) continue;
    deps.set(mod, rest.trim() ? rest.trim().split(/\s+/) : []);
    byName.set(moduleName(mod), mod);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (mod: string) => {
    if (seen.has(mod)) return;
    seen.add(mod);
    for (const d of deps.get(mod) ?? []) visit(d);
    out.push(mod);
  };
  for (const w of wanted) {
    const mod = byName.get(w.replace(/-/g, '_'));
    // Not a module: built into the kernel (nothing to load).
    if (mod) visit(mod);
  }
  return out;
}

export function moduleName(p: string): string {
  return path.basename(p).replace(/\.ko(\.xz|\.zst|\.gz)?$/, '').replace(/-/g, '_');
}
