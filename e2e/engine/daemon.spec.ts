/**
 * The daemon itself: live restore across kill -9, SIGTERM leaving containers
 * running, the config file (dockerd keys, validation, SIGHUP reload), the
 * socket's mode, and cleanup leaving nothing behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';
import { Berthd } from '../support/berthd.js';
import { berthdBin } from '../support/paths.js';
import { PtySession } from '../support/pty.js';
import { cgroup2Mount } from '../../engine/system/cgroup-tuning.js';
import { readMounts } from '../../engine/system/mountinfo.js';

test('live restore: 5 running containers (TTY and not) survive kill -9 of berthd', async ({ freshBerthd: d }) => {
  const names = ['lr-plain', 'lr-tty', 'lr-stdin', 'lr-ttystdin', 'lr-paused'].map((n) => uniq(n));
  const [plain, tty, stdin, ttyStdin, paused] = names as [string, string, string, string, string];
  await d.dockerOk(['run', '-d', '--name', plain, 'busybox', 'sh', '-c', 'trap "echo bye; exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done']);
  await d.dockerOk(['run', '-dt', '--name', tty, 'busybox', 'sh', '-c', 'while true; do echo tty-tick; sleep 0.2; done']);
  await d.dockerOk(['run', '-di', '--name', stdin, 'busybox', 'sh', '-c', 'while read l; do echo "echo:$l"; done']);
  await d.dockerOk(['run', '-dit', '--name', ttyStdin, 'busybox', 'sh']);
  await d.dockerOk(['run', '-d', '--name', paused, 'busybox', 'sleep', '300']);
  await d.dockerOk(['pause', paused]);
  const exiting = uniq('lr-exits');
  await d.dockerOk(['run', '-d', '--name', exiting, 'busybox', 'sh', '-c', 'sleep 2; exit 42']);
  const autoRemoved = uniq('lr-rm');
  const autoRemovedId = (await d.dockerOk(['run', '-d', '--rm', '--name', autoRemoved, 'busybox', 'sh', '-c', 'sleep 2; exit 3'])).trim();
  const pids = Object.fromEntries(await Promise.all(names.map(async (n) => [n, (await d.dockerOk(['inspect', '-f', '{{.State.Pid}}', n])).trim()])));

  await d.kill9();
  // While berthd is down the containers keep running and one of them exits.
  await new Promise((r) => setTimeout(r, 2500));
  for (const n of names) expect(fs.existsSync(`/proc/${pids[n]}`)).toBe(true);
  await d.launch();

  const status = async (n: string) => (await d.dockerOk(['inspect', '-f', '{{.State.Status}}', n])).trim();
  for (const n of names.filter((x) => x !== paused)) expect(await status(n)).toBe('running');
  expect(await status(paused)).toBe('paused');
  for (const n of names) expect((await d.dockerOk(['inspect', '-f', '{{.State.Pid}}', n])).trim()).toBe(pids[n]);
  // The container that exited while the daemon was down shows its real exit code.
  expect((await d.dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', exiting])).trim()).toBe('exited 42');
  // A --rm container that exited meanwhile is removed, with its filesystem and exit file.
  await expect.poll(async () => (await d.docker(['inspect', autoRemoved])).code, { timeout: 5000 }).toBe(1);
  expect(fs.existsSync(path.join(d.dataRoot, 'overlay', 'containers', autoRemovedId))).toBe(false);
  expect(fs.existsSync(path.join(d.execRoot, 'exits', autoRemovedId))).toBe(false);
  // Logs continued to be written while the daemon was down.
  const ticks = (await d.dockerOk(['logs', plain])).trim().split('\n').length;
  expect(ticks).toBeGreaterThan(12);
  expect((await d.dockerOk(['logs', '--tail', '1', tty])).trim()).toBe('tty-tick');
  // exec, attach, stdin and stop keep working.
  expect(await d.dockerOk(['exec', plain, 'echo', 'exec-ok'])).toBe('exec-ok\n');
  // stdin of a -di container still reaches it through a new attach.
  const att = await d.client().getContainer(stdin).attach({ stream: true, stdin: true, stdout: true, hijack: true });
  let echoed = '';
  att.on('data', (b: Buffer) => (echoed += b.toString()));
  att.write('after-restart\n');
  await expect.poll(() => echoed, { timeout: 5000 }).toContain('echo:after-restart');
  (att as unknown as { destroy(): void }).destroy();
  const a = new PtySession(['docker', 'attach', ttyStdin], d.env);
  try {
    await new Promise((r) => setTimeout(r, 300));
    a.write('echo still-$((40+2))\r');
    await a.waitFor('still-42');
    a.write('\x10\x11');
    await a.waitFor('read escape sequence');
  } finally {
    a.kill();
  }
  await d.dockerOk(['unpause', paused]);
  await d.dockerOk(['stop', plain]);
  expect((await d.dockerOk(['inspect', '-f', '{{.State.ExitCode}}', plain])).trim()).toBe('0');
  expect((await d.dockerOk(['logs', '--tail', '1', plain])).trim()).toBe('bye');
  // The restored containers are monitored: an exit after the restart is seen.
  await d.dockerOk(['kill', tty]);
  expect((await d.dockerOk(['wait', tty])).trim()).toBe('137');
});

test('SIGTERM stops the daemon cleanly and leaves containers running', async ({ freshBerthd: d }) => {
  const name = uniq('sigterm');
  await d.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
  const pid = (await d.dockerOk(['inspect', '-f', '{{.State.Pid}}', name])).trim();
  await d.stop();
  expect(d.proc!.exitCode).toBe(0);
  expect(d.log).toContain('shutting down; containers keep running');
  expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
  await d.launch();
  expect((await d.dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', name])).trim()).toBe(`running ${pid}`);
});

test('config file: dockerd keys, validation messages, flag conflicts, SIGHUP reload', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-config-'));
  const file = path.join(dir, 'daemon.json');
  const run = (args: string[]) => spawnSync(process.execPath, [berthdBin, ...args], { encoding: 'utf8', timeout: 10_000 });
  try {
    fs.writeFileSync(file, JSON.stringify({ 'data-root': dir, colour: 'blue' }));
    let r = run(['--config-file', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the following directives don't match any configuration option: colour");
    fs.writeFileSync(file, JSON.stringify({ 'data-root': dir }));
    r = run(['--config-file', file, '--data-root', '/elsewhere']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the following directives are specified both as a flag and in the configuration file: data-root');
    fs.writeFileSync(file, '{ not json');
    r = run(['--config-file', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`unable to configure the Docker daemon with file ${file}`);
    fs.writeFileSync(file, JSON.stringify({ 'log-level': 'chatty' }));
    r = run(['--config-file', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unable to parse logging level: chatty');
    r = run(['--version']);
    expect(r.stdout).toMatch(/^berthd version \d+\.\d+\.\d+/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // A running daemon: settings from the file apply, socket is 0660, SIGHUP reloads.
  const d = await Berthd.start({ config: { 'log-level': 'info', labels: ['env=test'], 'log-opts': { 'max-size': '1m', 'max-file': '2' }, 'default-ulimits': { nofile: { Name: 'nofile', Soft: 777, Hard: 888 } } } });
  try {
    expect(fs.statSync(d.socket).mode & 0o777).toBe(0o660);
    // default-ulimits and log-opts from the file apply to new containers.
    expect(await d.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn'])).toBe('777\n888\n');
    const name = uniq('logopts');
    await d.dockerOk(['create', '--name', name, 'busybox']);
    expect(JSON.parse(await d.dockerOk(['inspect', '-f', '{{json .HostConfig.LogConfig}}', name]))).toEqual({ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } });
    expect(JSON.parse(await d.dockerOk(['info', '-f', '{{json .Labels}}']))).toEqual(['env=test']);
    fs.writeFileSync(d.configFile, JSON.stringify({ 'log-level': 'debug', labels: ['env=reloaded'], 'registry-mirrors': ['https://mirror.example'] }));
    d.proc!.kill('SIGHUP');
    await expect.poll(async () => JSON.parse(await d.dockerOk(['info', '-f', '{{json .Labels}}'])), { timeout: 5000 }).toEqual(['env=reloaded']);
    expect(JSON.parse(await d.dockerOk(['info', '-f', '{{json .RegistryConfig.Mirrors}}']))).toEqual(['https://mirror.example/']);
    expect(d.log).toContain('reloaded configuration');
    // A broken file on reload keeps the current settings and the daemon serving.
    fs.writeFileSync(d.configFile, '{ broken');
    d.proc!.kill('SIGHUP');
    await expect.poll(() => d.log, { timeout: 5000 }).toContain('configuration reload failed');
    expect(JSON.parse(await d.dockerOk(['info', '-f', '{{json .Labels}}']))).toEqual(['env=reloaded']);
  } finally {
    await d.destroy();
  }
});

test('leak check: 50 create/run/rm cycles leave no mounts, monitors, cgroups or files', async ({ freshBerthd: d }) => {
  const snapshot = () => ({
    mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(d.dataRoot) || l.includes(d.execRoot)).length,
    monitors: execFileSync('sh', ['-c', `ps -eo args | grep -c "[c]onmon.*${d.execRoot}" || true`], { encoding: 'utf8' }).trim(),
    cgroups: fs.existsSync('/sys/fs/cgroup/memory/berth') ? fs.readdirSync('/sys/fs/cgroup/memory/berth').filter((n) => /^[a-f0-9]{64}$/.test(n)).sort() : [],
    containers: fs.readdirSync(path.join(d.dataRoot, 'containers')).length,
    overlay: fs.readdirSync(path.join(d.dataRoot, 'overlay', 'containers')).length,
    bundles: fs.readdirSync(path.join(d.execRoot, 'c')).length,
    runc: fs.existsSync(path.join(d.execRoot, 'runc')) ? fs.readdirSync(path.join(d.execRoot, 'runc')).length : 0,
    exits: fs.readdirSync(path.join(d.execRoot, 'exits')).length,
    fds: fs.readdirSync(`/proc/${d.proc!.pid}/fd`).length,
  });
  const before = snapshot();
  const ids: string[] = [];
  const cidfile = path.join(d.dataRoot, '..', 'leak.cid');
  const recordId = () => {
    ids.push(fs.readFileSync(cidfile, 'utf8').trim());
    fs.rmSync(cidfile);
  };
  for (let i = 0; i < 50; i++) {
    const name = `leak-${i}`;
    if (i % 3 === 0) {
      await d.dockerOk(['create', '--cidfile', cidfile, '--name', name, 'busybox', 'true']);
      recordId();
      await d.dockerOk(['start', '-a', name]);
      await d.dockerOk(['rm', name]);
    } else if (i % 3 === 1) {
      await d.dockerOk(['run', '--rm', '--cidfile', cidfile, '--name', name, 'busybox', 'sh', '-c', 'echo x > /tmp/x']);
      recordId();
    } else {
      await d.dockerOk(['run', '-d', '--cidfile', cidfile, '--name', name, 'busybox', 'sleep', '30']);
      recordId();
      await d.dockerOk(['exec', name, 'true']);
      await d.dockerOk(['rm', '-f', name]);
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = snapshot();
  // Cgroups of other concurrently running test daemons may come and go: compare ours.
  expect({ ...after, cgroups: undefined, fds: undefined }).toEqual({ ...before, cgroups: undefined, fds: undefined });
  expect(after.cgroups.filter((c) => !before.cgroups.includes(c)).filter((c) => fs.existsSync(path.join(d.dataRoot, 'containers', c)))).toEqual([]);
  expect(after.fds).toBeLessThanOrEqual(before.fds + 5);
  // No cgroup of these 50 containers is left in any hierarchy (v1 controllers and the unified one).
  expect(ids).toHaveLength(50);
  const hierarchies = fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h, 'berth'));
  expect(hierarchies.flatMap((h) => ids.map((id) => path.join(h, id))).filter((p) => fs.existsSync(p))).toEqual([]);
});

test('host tuning: the cgroup2 hierarchy has favordynmods on (cgroup moves at start do not wait for RCU)', async ({ berthd }) => {
  expect(await berthd.dockerOk(['version', '--format', '{{.Server.Version}}'])).toBeTruthy();
  const cg = cgroup2Mount(readMounts());
  expect(cg, 'this host has a cgroup2 hierarchy (unified or hybrid)').toBeDefined();
  expect(cg!.options).toContain('favordynmods');
});

test('runtimes: daemon.json adds a runtime by name (its args and state root used), unknown names are refused as dockerd does', async () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-runtime-'));
  const runtimeLog = path.join(logDir, 'alt.log');
  // The same runc under another name, with an argument that shows it was the one used.
  const d = await Berthd.start({ config: { runtimes: { 'runc-alt': { path: 'runc', runtimeArgs: ['--debug', '--log', runtimeLog, '--log-format', 'json'] } } } });
  try {
    const info = JSON.parse(await d.dockerOk(['info', '-f', '{{json .}}'])) as { Runtimes: Record<string, { path: string; runtimeArgs?: string[] }>; DefaultRuntime: string };
    expect(Object.keys(info.Runtimes).sort()).toEqual(['runc', 'runc-alt']);
    expect(info.Runtimes['runc-alt']!.path).toMatch(/\/runc$/);
    expect(info.Runtimes['runc-alt']!.runtimeArgs).toEqual(['--debug', '--log', runtimeLog, '--log-format', 'json']);
    expect(info.DefaultRuntime).toBe('runc');

    const unknown = await d.docker(['run', '--runtime=nvidia', '--rm', 'busybox', 'true']);
    expect(unknown.code).toBe(125);
    expect(unknown.stderr).toContain('Error response from daemon: unknown or invalid runtime name: nvidia');
    expect(await d.dockerOk(['ps', '-aq'])).toBe('');

    expect(await d.dockerOk(['run', '--rm', '--runtime=runc-alt', 'busybox', 'echo', 'hi'])).toBe('hi\n');
    expect(fs.statSync(runtimeLog).size).toBeGreaterThan(0);
    const name = uniq('alt');
    const id = (await d.dockerOk(['run', '-d', '--runtime', 'runc-alt', '--name', name, 'busybox', 'sleep', '60'])).trim();
    expect((await d.dockerOk(['inspect', '-f', '{{.HostConfig.Runtime}}', name])).trim()).toBe('runc-alt');
    expect(fs.existsSync(path.join(d.execRoot, 'runtimes', 'runc-alt', id))).toBe(true);
    expect(fs.existsSync(path.join(d.execRoot, 'runc', id))).toBe(false);
    // exec, pause, stop and rm go through the same runtime.
    expect(await d.dockerOk(['exec', name, 'echo', 'in'])).toBe('in\n');
    await d.dockerOk(['pause', name]);
    expect((await d.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim()).toBe('paused');
    await d.dockerOk(['unpause', name]);
    await d.dockerOk(['stop', '-t', '1', name]);
    expect(fs.existsSync(path.join(d.execRoot, 'runtimes', 'runc-alt', id))).toBe(false);
    await d.dockerOk(['rm', name]);
    // Without --runtime: the default.
    const plain = uniq('plain');
    await d.dockerOk(['create', '--name', plain, 'busybox']);
    expect((await d.dockerOk(['inspect', '-f', '{{.HostConfig.Runtime}}', plain])).trim()).toBe('runc');
    await d.dockerOk(['rm', plain]);
  } finally {
    await d.destroy();
    fs.rmSync(logDir, { recursive: true, force: true });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-config-'));
  try {
    const file = path.join(dir, 'daemon.json');
    fs.writeFileSync(file, JSON.stringify({ runtimes: { runc: { path: '/usr/bin/true' } } }));
    const r = spawnSync(process.execPath, [berthdBin, '--config-file', file], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("runtime name 'runc' is reserved");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
