/**
 * The payload: what Berth itself puts in the VM — berthd and the guest agent as single-file bundles
 * of the built dist/ (bundle.ts) with the launcher that runs them from V8's code cache, stage 2's
 * init, and the one package they load from node_modules (koffi, with its prebuilt library for the
 * guest's architecture only). Mounted read-only at /opt/berth. Keyed by the hash of its files, so
 * a rebuilt engine makes a new payload in seconds while the base stays.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GuestArch } from '../host/qemu-args.js';
import { SOURCE_DATE_EPOCH } from './base.js';
import { bundleGuestPrograms, EXTERNAL_PACKAGES } from './bundle.js';
import type { ImageStore, Manifest } from './store.js';

/** What berthd and the agent load from node_modules at run time (their dependencies are followed); the rest is in the bundles. */
export const GUEST_PACKAGES = EXTERNAL_PACKAGES;

export interface PayloadOptions {
  arch: GuestArch;
  store: ImageStore;
  /** The repository (package.json, node_modules, vm/guest/init.sh). */
  repoRoot: string;
  /** The build output (dist/). */
  distRoot: string;
  log: (msg: string) => void;
}

export interface StagedPayload {
  dir: string;
  key: string;
  cleanup: () => void;
}

const KOFFI_ARCH: Record<GuestArch, string> = { amd64: 'x64', arm64: 'arm64' };

/** Bundles the programs into a temporary folder with what they need, and computes its key. */
export async function stagePayload(o: PayloadOptions): Promise<StagedPayload> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-vm-payload-${o.arch}-`));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await bundleGuestPrograms(o.distRoot, dir);
    fs.copyFileSync(path.join(o.repoRoot, 'vm/guest/init.sh'), path.join(dir, 'init.sh'));
    fs.chmodSync(path.join(dir, 'init.sh'), 0o755);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'berth-vm-payload', private: true, type: 'module' }, null, 2) + '\n');
    copyModules(o, dir);
    return { dir, key: treeHash(dir), cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

function copyModules(o: PayloadOptions, dir: string): void {
  const nm = path.join(o.repoRoot, 'node_modules');
  const lock = JSON.parse(fs.readFileSync(path.join(o.repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const seen = new Set<string>();
  const queue = [...GUEST_PACKAGES];
  const koffiPlatform = `@koromix/koffi-linux-${KOFFI_ARCH[o.arch]}`;
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const src = path.join(nm, name);
    const dst = path.join(dir, 'node_modules', name);
    if (!fs.existsSync(src)) {
      if (name === koffiPlatform) {
        fetchPackage(name, lock.packages[`node_modules/${name}`]?.version, dst);
        continue;
      }
      throw new Error(`${src} is missing: run scripts/install-npm-deps.sh`);
    }
    fs.cpSync(src, dst, { recursive: true, filter: (s) => !/\/(test|tests|docs?|\.github)$/.test(s) && !s.endsWith('.md') && !s.endsWith('.map') && !s.endsWith('.d.ts') });
    const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const d of Object.keys(pkg.dependencies ?? {})) queue.push(d);
    // Optional dependencies are per-platform builds: take only the guest's (koffi's linux-<arch>).
    for (const d of Object.keys(pkg.optionalDependencies ?? {})) if (d === koffiPlatform) queue.push(d);
  }
  // koffi's own package also ships its C++ sources and vendored headers, which the guest does not
  // need; its JavaScript entry points live in the same src/ folder (index.cjs requires them).
  const koffiDir = path.join(dir, 'node_modules/koffi');
  for (const p of ['vendor', 'doc']) fs.rmSync(path.join(koffiDir, p), { recursive: true, force: true });
  for (const f of fs.existsSync(path.join(koffiDir, 'src')) ? (fs.readdirSync(path.join(koffiDir, 'src'), { recursive: true }) as string[]) : []) {
    const abs = path.join(koffiDir, 'src', f);
    if (fs.statSync(abs).isFile() && !/\.(c?js|json)$/.test(f)) fs.rmSync(abs);
  }
  const plat = path.join(dir, 'node_modules', koffiPlatform);
  for (const sub of fs.existsSync(plat) ? fs.readdirSync(plat) : []) if (sub.startsWith('musl_')) fs.rmSync(path.join(plat, sub), { recursive: true, force: true });
}

/** A package npm did not install on this host (another architecture's build), from the registry at the locked version. */
function fetchPackage(name: string, version: string | undefined, dst: string): void {
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-npm-pack-'));
  try {
    const out = execFileSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', tmp], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim().split('\n').at(-1)!;
    fs.mkdirSync(dst, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(tmp, out), '-C', dst, '--strip-components=1']);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** sha256 over every file's path, mode and content, in a fixed order. */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    for (const name of fs.readdirSync(abs).sort()) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(dir, r));
      h.update(`${r}\0${st.mode}\0`);
      if (st.isDirectory()) walk(r);
      else if (st.isSymbolicLink()) h.update(fs.readlinkSync(path.join(dir, r)));
      else h.update(fs.readFileSync(path.join(dir, r)));
    }
  };
  walk('');
  return h.digest('hex').slice(0, 16);
}

export function buildPayload(o: PayloadOptions, staged: StagedPayload): Manifest {
  const started = Date.now();
  const out = o.store.newTmpDir('payload', o.arch);
  try {
    o.log(`payload ${o.arch}: mksquashfs`);
    execFileSync('mksquashfs', [staged.dir, path.join(out, 'payload.squashfs'), '-noappend', '-no-progress', '-quiet', '-all-root', '-comp', 'zstd', '-Xcompression-level', '15'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SOURCE_DATE_EPOCH },
    });
    return o.store.publish(out, o.store.entryDir('payload', o.arch, staged.key), {
      kind: 'payload',
      arch: o.arch,
      key: staged.key,
      built: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 100) / 10,
    });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}
