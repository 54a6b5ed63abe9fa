/**
 * Berth's engine as a Linux system service, in throwaway Debian roots
 * (mmdebstrap bookworm with systemd, cached): a .deb carrying the unit and
 * maintainer scripts exactly as electron-builder.yml ships them is installed
 * with dpkg (its postinst runs chrooted, where no systemd runs, as in image
 * builds), the unit is checked with the root's own systemd-analyze verify,
 * then purged; and
 * `berth engine install`'s script installs an AppImage-style copy and removes
 * it. Nothing here touches the machine's own systemd, groups or /etc.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as base, expect } from '@playwright/test';
import { cachedTar, fixtureKey } from '../support/fixture-cache.js';
import { repoRoot } from '../support/paths.js';

const linuxDir = path.join(repoRoot, 'electron', 'packaging', 'linux');
const serviceScript = path.join(linuxDir, 'berth-engine-service.sh');

/** A Debian root with systemd (for its units and systemctl), passwd (groupadd) and procps (/bin/kill). */
function debianSystemdTar(): string {
  const args = ['--variant=minbase', '--mode=root', '--format=tar', '--quiet', '--include=systemd,passwd,procps', 'bookworm'];
  const version = execFileSync('mmdebstrap', ['--version'], { encoding: 'utf8' });
  return cachedTar({ name: 'debian-systemd', key: fixtureKey(version, ...args), build: (tmp) => execFileSync('mmdebstrap', [...args, tmp], { stdio: 'pipe', timeout: 900_000 }) });
}

/** Each test gets its own root, removed afterwards. */
const test = base.extend<{ root: string }>({
  root: async ({}, use) => {
    const tar = debianSystemdTar();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-service-root-'));
    execFileSync('tar', ['--numeric-owner', '-xpf', tar, '-C', root]);
    await use(root);
    fs.rmSync(root, { recursive: true, force: true });
  },
});
test.setTimeout(900_000);

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env } });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function ok(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.out}`);
  return r.out;
}

/** electron-builder's macro substitution for maintainer scripts (FpmTarget writeConfigFile): unknown ${names} are an error. */
function fillMacros(file: string, vars: Record<string, string>): string {
  return fs.readFileSync(file, 'utf8').replace(/\$\{([a-zA-Z]+)\}/g, (_m, name: string) => {
    if (!(name in vars)) throw new Error(`${path.basename(file)}: macro \${${name}} is not defined by electron-builder`);
    return vars[name]!;
  });
}

/** Stand-ins for the app's files: the Electron binary and berthd's entry point (not run here). */
function fakeApp(dir: string, execName: string): void {
  fs.mkdirSync(path.join(dir, 'resources', 'app.asar.unpacked', 'dist', 'engine', 'daemon'), { recursive: true });
  fs.writeFileSync(path.join(dir, execName), '#!/bin/sh\necho "the Berth app (stand-in)"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'resources', 'app.asar.unpacked', 'dist', 'engine', 'daemon', 'main.js'), '// berthd (stand-in)\n');
}

const groupLine = (root: string) => fs.readFileSync(path.join(root, 'etc', 'group'), 'utf8').split('\n').find((l) => l.startsWith('berth:'));

test('the .deb: dpkg runs the postinst, which installs and enables berth.service and creates the berth group; the unit verifies; purge removes it all', async ({ root }) => {
  // The package as electron-builder lays it out: the app in /opt/Berth, extraResources in resources/.
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-deb-'));
  try {
    const app = path.join(stage, 'pkg', 'opt', 'Berth');
    fakeApp(app, 'berth');
    const res = path.join(app, 'resources', 'packaging', 'linux');
    fs.mkdirSync(res, { recursive: true });
    for (const f of ['berth.service', '50-berth.rules', 'berth-engine-service.sh']) fs.copyFileSync(path.join(linuxDir, f), path.join(res, f));
    fs.chmodSync(path.join(res, 'berth-engine-service.sh'), 0o755);
    const debian = path.join(stage, 'pkg', 'DEBIAN');
    fs.mkdirSync(debian);
    fs.writeFileSync(path.join(debian, 'control'), 'Package: berth\nVersion: 0.1.0\nArchitecture: all\nMaintainer: Berth contributors <berth@localhost>\nDepends: passwd, procps\nDescription: Berth (test package)\n');
    const macros = { executable: 'berth', sanitizedProductName: 'Berth', productFilename: 'Berth' };
    fs.writeFileSync(path.join(debian, 'postinst'), fillMacros(path.join(linuxDir, 'deb-postinst.sh'), macros), { mode: 0o755 });
    fs.writeFileSync(path.join(debian, 'postrm'), fillMacros(path.join(linuxDir, 'deb-postrm.sh'), macros), { mode: 0o755 });
    const deb = path.join(stage, 'berth_0.1.0_all.deb');
    ok('dpkg-deb', ['--root-owner-group', '--build', path.join(stage, 'pkg'), deb]);

    const install = run('dpkg', [`--root=${root}`, '-i', deb]);
    expect(install.code, install.out).toBe(0);
    const unit = path.join(root, 'usr', 'lib', 'systemd', 'system', 'berth.service');
    expect(fs.readFileSync(unit, 'utf8')).toBe(fs.readFileSync(path.join(linuxDir, 'berth.service'), 'utf8'));
    // Debian's merged /usr: systemctl may name it by either path.
    expect(['/usr/lib/systemd/system/berth.service', '/lib/systemd/system/berth.service']).toContain(fs.readlinkSync(path.join(root, 'etc', 'systemd', 'system', 'multi-user.target.wants', 'berth.service')));
    expect(ok('chroot', [root, 'systemctl', 'is-enabled', 'berth.service']).trim()).toBe('enabled');
    const launcher = fs.readFileSync(path.join(root, 'usr', 'libexec', 'berth', 'berthd'), 'utf8');
    expect(launcher).toContain("exec '/opt/Berth/berth' --max-semi-space-size=1 '/opt/Berth/resources/app.asar.unpacked/dist/engine/daemon/main.js'");
    expect(launcher).toContain('ELECTRON_RUN_AS_NODE=1');
    expect(fs.statSync(path.join(root, 'usr', 'libexec', 'berth', 'berthd')).mode & 0o7777).toBe(0o755);
    expect(groupLine(root)).toMatch(/^berth:x:\d+:$/);
    expect(fs.readFileSync(path.join(root, 'usr', 'share', 'polkit-1', 'rules.d', '50-berth.rules'), 'utf8')).toContain('"berth.service"');
    expect(fs.readFileSync(path.join(root, 'etc', 'berth', 'daemon.json'), 'utf8').trim()).toBe('{}');
    // `berth` on PATH: the CLI for its commands, the app otherwise.
    const wrapper = fs.readFileSync(path.join(root, 'usr', 'bin', 'berth'), 'utf8');
    expect(wrapper).toContain("'/opt/Berth/resources/app.asar.unpacked/dist/electron/cli/berth.js'");
    expect(ok('chroot', [root, '/usr/bin/berth', '--no-such-flag']).trim()).toBe('the Berth app (stand-in)');

    // The unit, as installed, verifies with the root's own systemd (its units and binaries).
    const verify = run('chroot', [root, 'systemd-analyze', 'verify', 'berth.service']);
    expect(verify.code, verify.out).toBe(0);
    expect(verify.out.trim()).toBe('');

    const purge = run('dpkg', [`--root=${root}`, '--purge', 'berth']);
    expect(purge.code, purge.out).toBe(0);
    for (const gone of ['usr/lib/systemd/system/berth.service', 'etc/systemd/system/multi-user.target.wants/berth.service', 'usr/libexec/berth', 'usr/share/polkit-1/rules.d/50-berth.rules', 'usr/bin/berth', 'var/lib/berth-service'])
      expect(fs.existsSync(path.join(root, gone)), gone).toBe(false);
    expect(groupLine(root)).toBeUndefined();
    // Configuration stays, as docker.io leaves /etc/docker.
    expect(fs.existsSync(path.join(root, 'etc', 'berth', 'daemon.json'))).toBe(true);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
});

test('berth engine install (AppImage, tarball): a root-owned copy of the app runs the engine; the user joins the berth group; uninstall removes it', async ({ root }) => {
  ok('useradd', ['--root', root, '--create-home', 'tester']);
  // The app as an AppImage mounts it (or a tarball unpacks it): owned by the user, so it must be copied.
  const appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-appimage-'));
  try {
    fakeApp(appDir, 'berth');
    execFileSync('chown', ['-R', '1000:1000', appDir]);
    const args = ['install', '--root', root, '--copy-app', appDir, '--exec', 'berth', '--script', 'resources/app.asar.unpacked/dist/engine/daemon/main.js', '--user', 'tester'];
    const r = run('sh', [serviceScript, ...args]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('added tester to the berth group');
    const copy = path.join(root, 'opt', 'berth-engine');
    const st = fs.statSync(path.join(copy, 'berth'));
    expect([st.uid, st.gid, st.mode & 0o022]).toEqual([0, 0, 0]);
    expect(fs.readFileSync(path.join(root, 'usr', 'libexec', 'berth', 'berthd'), 'utf8')).toContain("exec '/opt/berth-engine/berth' --max-semi-space-size=1 '/opt/berth-engine/resources/app.asar.unpacked/dist/engine/daemon/main.js'");
    expect(fs.existsSync(path.join(root, 'etc', 'systemd', 'system', 'berth.service'))).toBe(true);
    expect(ok('chroot', [root, 'systemctl', 'is-enabled', 'berth.service']).trim()).toBe('enabled');
    expect(groupLine(root)).toMatch(/^berth:x:\d+:tester$/);
    const verify = run('chroot', [root, 'systemd-analyze', 'verify', 'berth.service']);
    expect(verify.code, verify.out).toBe(0);

    // Installing again (an update) replaces the copy and keeps one membership.
    fs.writeFileSync(path.join(appDir, 'resources', 'app.asar.unpacked', 'dist', 'engine', 'daemon', 'main.js'), '// berthd, newer\n');
    expect(run('sh', [serviceScript, ...args]).code).toBe(0);
    expect(fs.readFileSync(path.join(copy, 'resources', 'app.asar.unpacked', 'dist', 'engine', 'daemon', 'main.js'), 'utf8')).toContain('newer');
    expect(groupLine(root)).toMatch(/^berth:x:\d+:tester$/);

    const un = run('sh', [serviceScript, 'uninstall', '--root', root]);
    expect(un.code, un.out).toBe(0);
    for (const gone of ['opt/berth-engine', 'etc/systemd/system/berth.service', 'etc/systemd/system/multi-user.target.wants/berth.service', 'usr/libexec/berth', 'usr/share/polkit-1/rules.d/50-berth.rules'])
      expect(fs.existsSync(path.join(root, gone)), gone).toBe(false);
    // The group (and who is in it) stays unless asked: a reinstall should not need everyone to re-join.
    expect(groupLine(root)).toMatch(/tester$/);
    expect(run('sh', [serviceScript, 'uninstall', '--root', root, '--remove-group']).code).toBe(0);
    expect(groupLine(root)).toBeUndefined();
  } finally {
    fs.rmSync(appDir, { recursive: true, force: true });
  }
});

test('a root service refuses to run files a user can change, unless told it is a development checkout', async ({ root }) => {
  const dev = path.join(root, 'home', 'dev', 'berth');
  fakeApp(dev, 'node');
  execFileSync('chown', ['-R', '1000:1000', path.join(root, 'home', 'dev')]);
  const args = ['install', '--root', root, '--exec', '/home/dev/berth/node', '--script', '/home/dev/berth/resources/app.asar.unpacked/dist/engine/daemon/main.js'];
  const refused = run('sh', [serviceScript, ...args]);
  expect(refused.code).not.toBe(0);
  expect(refused.out).toContain('is owned by uid 1000, not root');
  expect(fs.existsSync(path.join(root, 'etc', 'systemd', 'system', 'berth.service'))).toBe(false);
  const allowed = run('sh', [serviceScript, ...args, '--allow-user-owned']);
  expect(allowed.code, allowed.out).toBe(0);
  // And a world-writable binary is refused even when root owns it.
  const ww = path.join(root, 'opt', 'ww');
  fakeApp(ww, 'node');
  fs.chmodSync(path.join(ww, 'node'), 0o777);
  const writable = run('sh', [serviceScript, 'install', '--root', root, '--exec', '/opt/ww/node', '--script', '/opt/ww/resources/app.asar.unpacked/dist/engine/daemon/main.js']);
  expect(writable.out).toContain('writable by group or others (mode 777)');
});
