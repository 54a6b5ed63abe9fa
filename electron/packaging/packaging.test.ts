/**
 * electron-builder.yml checked against the files it names and the code it
 * ships (electron-builder cannot run here: no Electron binary): icons named by
 * size for Linux, entitlements for the hardened runtime, maintainer scripts
 * with only the macros electron-builder defines, the service files in
 * resources, a documented publish channel, and asarUnpack covering exactly
 * what a separate Node process loads (berthd and the CLI, and the packages
 * they import) while the renderer's bundled libraries are not shipped.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// electron-builder's own YAML reader (it depends on js-yaml), so the file is read as it would read it.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

const repo = path.resolve(import.meta.dirname, '..', '..');
const config = yaml.load(fs.readFileSync(path.join(repo, 'electron-builder.yml'), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A glob as electron-builder (minimatch) reads it, enough for the patterns used here: **, *, {a,b}. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((s) => s.replace(/[.+^$()|[\]\\]/g, '\\$&'))
        .join('|')})`;
      i = end;
    } else re += c.replace(/[.+^$()|[\]\\?]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
const matchesAny = (p: string, globs: string[]) => globs.some((g) => globToRegExp(g).test(p));

/** Bare imports of the TypeScript sources under dir (what the built JS will import). */
function bareImports(dir: string, skip: RegExp): Set<string> {
  const out = new Set<string>();
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, f);
    // skip is matched against the path inside dir: the checkout's own path (e.g. /work/main) must not count.
    if (!/\.(ts|mts|cts)$/.test(p) || /\.test\.ts$/.test(p) || skip.test(path.sep + f)) continue;
    for (const m of fs.readFileSync(p, 'utf8').matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^'./][^']*)'|import\('([^'./][^']*)'\)/gm)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('node:') || /^import type/.test(m[0])) continue;
      out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return out;
}

/** A package and everything it depends on, as installed. */
function closure(roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const walk = (name: string) => {
    if (seen.has(name)) return;
    const pj = path.join(repo, 'node_modules', name, 'package.json');
    if (!fs.existsSync(pj)) return;
    seen.add(name);
    const j = JSON.parse(fs.readFileSync(pj, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const d of Object.keys({ ...j.dependencies, ...j.optionalDependencies })) walk(d);
  };
  for (const r of roots) walk(r);
  return seen;
}

describe('electron-builder.yml', () => {
  it('Linux icons are a folder of PNGs named by their size, with the sizes desktops ask for', () => {
    const dir = path.join(repo, config.linux.icon);
    const names = fs.readdirSync(dir);
    for (const size of [16, 32, 48, 64, 128, 256, 512]) expect(names).toContain(`${size}x${size}.png`);
    // Each file is a PNG of the size its name says.
    for (const n of names) {
      const png = fs.readFileSync(path.join(dir, n));
      const size = Number(n.split('x')[0]);
      expect(png.readUInt32BE(16), n).toBe(size);
      expect(png.readUInt32BE(20), n).toBe(size);
    }
    for (const p of [config.mac.icon, config.win.icon]) expect(fs.existsSync(path.join(repo, p)), p).toBe(true);
  });

  it('macOS: the hardened runtime has its entitlements (JIT for V8, native modules, the hypervisor for the VM)', () => {
    expect(config.mac.hardenedRuntime).toBe(true);
    for (const key of ['entitlements', 'entitlementsInherit']) {
      const plist = fs.readFileSync(path.join(repo, config.mac[key]), 'utf8');
      for (const e of ['com.apple.security.cs.allow-jit', 'com.apple.security.cs.allow-unsigned-executable-memory', 'com.apple.security.cs.disable-library-validation', 'com.apple.security.hypervisor'])
        expect(plist).toMatch(new RegExp(`<key>${e.replace(/\./g, '\\.')}</key>\\s*<true/>`));
    }
  });

  it('the .deb maintainer scripts exist and use only the macros electron-builder defines', () => {
    const defined = new Set(['executable', 'sanitizedProductName', 'productFilename']);
    for (const key of ['afterInstall', 'afterRemove']) {
      const text = fs.readFileSync(path.join(repo, config.deb[key]), 'utf8');
      const used = [...text.matchAll(/\$\{([a-zA-Z]+)\}/g)].map((m) => m[1]!);
      expect(used.length, key).toBeGreaterThan(0);
      for (const u of used) expect(defined.has(u), `${key} uses \${${u}}`).toBe(true);
    }
    expect(config.deb.depends).toEqual(expect.arrayContaining(['passwd', 'runc', 'conmon']));
  });

  it('the engine service files reach resources/ (as the postinst and berth engine install expect them)', () => {
    const entry = (config.extraResources as Array<{ from: string; to: string; filter?: string[] }>).find((e) => e.from === 'electron/packaging/linux');
    expect(entry?.to).toBe('packaging/linux');
    for (const f of entry!.filter!) expect(fs.existsSync(path.join(repo, entry!.from, f)), f).toBe(true);
    expect(fs.readFileSync(path.join(repo, config.deb.afterInstall), 'utf8')).toContain('resources/packaging/linux/berth-engine-service.sh');
  });

  it('names a publish provider and keeps update files for every channel', () => {
    expect(config.publish).toMatchObject({ provider: 'github', releaseType: 'draft' });
    expect(config.generateUpdatesFilesForAllChannels).toBe(true);
  });

  it('asarUnpack covers what berthd and the CLI load from disk, and nothing of the window or the bundled renderer', () => {
    const unpack: string[] = config.asarUnpack;
    const files: string[] = config.files;
    const excluded = files.filter((f) => f.startsWith('!')).map((f) => f.slice(1));
    // Entry points a separate Node process runs.
    for (const p of ['dist/engine/daemon/main.js', 'dist/electron/cli/berth.js', 'dist/electron/backend/backend.js', 'dist/electron/dashboard/server.js', 'dist/electron/contract/api.js', 'dist/electron/renderer-assets.js'])
      expect(matchesAny(p, unpack), p).toBe(true);
    for (const p of ['dist/electron/main/main.js', 'dist/electron/preload/preload.cjs', 'dist/renderer/index.html']) expect(matchesAny(p, unpack), p).toBe(false);
    // Every package those processes import is shipped and unpacked.
    const roots = new Set([...bareImports(path.join(repo, 'engine'), /\/$/), ...bareImports(path.join(repo, 'electron'), /[\\/](main|preload)[\\/]|packaging/)]);
    expect([...roots].sort()).toEqual(expect.arrayContaining(['dockerode', 'koffi', 'tar-stream', 'undici', 'ws', 'zod']));
    for (const pkg of closure(roots)) {
      expect(matchesAny(`node_modules/${pkg}/package.json`, unpack), `${pkg} unpacked`).toBe(true);
      expect(matchesAny(`node_modules/${pkg}/package.json`, excluded), `${pkg} shipped`).toBe(false);
    }
    // The renderer's libraries are in its bundle; the main process never imports them.
    for (const pkg of ['react', 'react-dom', 'zustand', '@xterm/xterm', '@xterm/addon-fit']) {
      expect(matchesAny(`node_modules/${pkg}/package.json`, excluded), `${pkg} left out`).toBe(true);
      expect(roots.has(pkg), `${pkg} is imported outside the renderer`).toBe(false);
    }
  });
});
