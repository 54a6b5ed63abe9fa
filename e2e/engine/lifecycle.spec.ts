/**
 * Container lifecycle through the docker CLI: create/start, stop, kill,
 * restart, pause, rm, rename, wait, update, prune — with Docker's messages.
 */
import fs from 'node:fs';
import { test, expect, uniq } from '../support/fixtures.js';

test.describe.configure({ mode: 'parallel' });

const state = async (d: { dockerOk(a: string[]): Promise<string> }, name: string) => (await d.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim();

test('create then start; start of a running container is a no-op', async ({ berthd }) => {
  const name = uniq('create');
  const id = (await berthd.dockerOk(['create', '--name', name, 'busybox', 'sleep', '30'])).trim();
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  expect(await state(berthd, name)).toBe('created');
  expect((await berthd.dockerOk(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}'])).trim()).toBe('Created');
  expect((await berthd.dockerOk(['start', name])).trim()).toBe(name);
  expect(await state(berthd, name)).toBe('running');
  expect((await berthd.docker(['start', name])).code).toBe(0);
  await berthd.dockerOk(['rm', '-f', name]);
});

test('start -a attaches and returns the exit code; start -ai feeds stdin', async ({ berthd }) => {
  const name = uniq('starta');
  await berthd.dockerOk(['create', '--name', name, 'busybox', 'sh', '-c', 'echo hello; exit 5']);
  const r = await berthd.docker(['start', '-a', name]);
  expect(r.stdout).toBe('hello\n');
  expect(r.code).toBe(5);
  // A second start reuses the container: its log has both runs.
  await berthd.docker(['start', '-a', name]);
  expect(await berthd.dockerOk(['logs', name])).toBe('hello\nhello\n');
  const cat = uniq('startai');
  await berthd.dockerOk(['create', '-i', '--name', cat, 'busybox', 'sh', '-c', 'read line; echo got:$line']);
  expect(await berthd.dockerOk(['start', '-ai', cat], { input: 'abc\n' })).toBe('got:abc\n');
  await berthd.dockerOk(['rm', name, cat]);
});

test('stop sends SIGTERM, then SIGKILL after -t; stopping a stopped container is fine', async ({ berthd }) => {
  const name = uniq('stop');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'trap "echo term; exit 3" TERM; while true; do sleep 0.1; done']);
  await berthd.dockerOk(['stop', name]);
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).trim()).toBe('exited 3');
  expect(await berthd.dockerOk(['logs', name])).toBe('term\n');
  expect((await berthd.docker(['stop', name])).code).toBe(0);
  const stubborn = uniq('stop-t');
  await berthd.dockerOk(['run', '-d', '--name', stubborn, 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']);
  const t0 = Date.now();
  await berthd.dockerOk(['stop', '-t', '1', stubborn]);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.ExitCode}}', stubborn])).trim()).toBe('137');
  await berthd.dockerOk(['rm', name, stubborn]);
});

test('kill with and without -s; killing a stopped container is an error', async ({ berthd }) => {
  const name = uniq('kill');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'trap "echo hup" HUP; while true; do sleep 0.1; done']);
  await berthd.dockerOk(['kill', '-s', 'HUP', name]);
  await expect.poll(() => berthd.dockerOk(['logs', name])).toBe('hup\n');
  expect(await state(berthd, name)).toBe('running');
  await berthd.dockerOk(['kill', name]);
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).trim()).toBe('exited 137');
  const again = await berthd.docker(['kill', name]);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(new RegExp(`cannot kill container: ${name}: container [a-f0-9]{64} is not running`));
  const badSig = await berthd.docker(['kill', '-s', 'NOPE', name]);
  expect(badSig.code).toBe(1);
  expect(badSig.stderr).toContain('Invalid signal: NOPE');
  await berthd.dockerOk(['rm', name]);
});

test('restart gives a new process and keeps the container', async ({ berthd }) => {
  const name = uniq('restart');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'echo started; trap "exit 0" TERM; while true; do sleep 0.1; done']);
  const pid1 = (await berthd.dockerOk(['inspect', '-f', '{{.State.Pid}}', name])).trim();
  await berthd.dockerOk(['restart', '-t', '2', name]);
  const pid2 = (await berthd.dockerOk(['inspect', '-f', '{{.State.Pid}}', name])).trim();
  expect(pid2).not.toBe(pid1);
  expect(await state(berthd, name)).toBe('running');
  await expect.poll(() => berthd.dockerOk(['logs', name])).toBe('started\nstarted\n');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('pause freezes the processes; unpause resumes; errors for wrong states', async ({ berthd }) => {
  const name = uniq('pause');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done']);
  await berthd.dockerOk(['pause', name]);
  expect(await state(berthd, name)).toBe('paused');
  expect((await berthd.dockerOk(['ps', '--filter', `name=${name}`, '--format', '{{.Status}}'])).trim()).toMatch(/^Up .* \(Paused\)$/);
  const id = (await berthd.dockerOk(['inspect', '-f', '{{.Id}}', name])).trim();
  expect(fs.readFileSync(`/sys/fs/cgroup/freezer/berth/${id}/freezer.state`, 'utf8').trim()).toBe('FROZEN');
  const again = await berthd.docker(['pause', name]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('is already paused');
  const exec = await berthd.docker(['exec', name, 'true']);
  expect(exec.code).not.toBe(0);
  expect(exec.stderr).toContain('is paused, unpause the container before exec');
  const rm = await berthd.docker(['rm', name]);
  expect(rm.code).toBe(1);
  await berthd.dockerOk(['unpause', name]);
  expect(await state(berthd, name)).toBe('running');
  const un = await berthd.docker(['unpause', name]);
  expect(un.code).toBe(1);
  expect(un.stderr).toContain('is not paused');
  // A paused container can be stopped.
  await berthd.dockerOk(['pause', name]);
  await berthd.dockerOk(['stop', '-t', '1', name]);
  expect(await state(berthd, name)).toBe('exited');
  await berthd.dockerOk(['rm', name]);
});

test('rm refuses running containers without -f; -f kills and removes', async ({ berthd }) => {
  const name = uniq('rm');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '60']);
  const r = await berthd.docker(['rm', name]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`cannot remove container "${name}": container is running: stop the container before removing or force remove`);
  await berthd.dockerOk(['rm', '-f', name]);
  const gone = await berthd.docker(['inspect', name]);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toContain(`No such object: ${name}`);
  const missing = await berthd.docker(['rm', 'definitely-not-here']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('No such container: definitely-not-here');
  // -f on a missing container is not an error (the CLI ignores the 404).
  expect((await berthd.docker(['rm', '-f', 'definitely-not-here'])).code).toBe(0);
});

test('rename, with conflicts and validation', async ({ berthd }) => {
  const a = uniq('ren-a');
  const b = uniq('ren-b');
  await berthd.dockerOk(['create', '--name', a, 'busybox']);
  await berthd.dockerOk(['create', '--name', b, 'busybox']);
  const clash = await berthd.docker(['rename', a, b]);
  expect(clash.code).toBe(1);
  expect(clash.stderr).toContain(`The container name "/${b}" is already in use`);
  const bad = await berthd.docker(['rename', a, 'bad name!']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('Invalid container name (bad name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
  const c = uniq('ren-c');
  await berthd.dockerOk(['rename', a, c]);
  expect((await berthd.dockerOk(['inspect', '-f', '{{.Name}}', c])).trim()).toBe(`/${c}`);
  expect((await berthd.docker(['inspect', a])).code).toBe(1);
  // The old name is free again.
  await berthd.dockerOk(['create', '--name', a, 'busybox']);
  await berthd.dockerOk(['rm', a, b, c]);
});

test('wait returns exit codes; conditions via the API', async ({ berthd }) => {
  const name = uniq('wait');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'sleep 0.5; exit 9']);
  expect((await berthd.dockerOk(['wait', name])).trim()).toBe('9');
  // Already stopped: not-running returns at once with the last code.
  expect((await berthd.dockerOk(['wait', name])).trim()).toBe('9');
  const docker = berthd.client();
  const c = docker.getContainer(name);
  const nextExit = c.wait({ condition: 'next-exit' });
  const removed = c.wait({ condition: 'removed' });
  await new Promise((r) => setTimeout(r, 200));
  await c.start();
  expect(await nextExit).toEqual({ StatusCode: 9, Error: null });
  await c.remove();
  expect((await removed).StatusCode).toBe(9);
  await expect(docker.getContainer(name).wait({ condition: 'bogus' as 'removed' })).rejects.toThrow(/invalid condition: "bogus"/);
});

test('update changes resource limits of a running container', async ({ berthd }) => {
  const name = uniq('update');
  await berthd.dockerOk(['run', '-d', '--name', name, '--memory', '64m', 'busybox', 'sleep', '60']);
  await berthd.dockerOk(['update', '--memory', '128m', '--memory-swap', '256m', '--cpus', '1.5', '--pids-limit', '50', '--restart', 'on-failure:3', name]);
  const hc = JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .HostConfig}}', name]));
  expect(hc.Memory).toBe(128 * 1024 * 1024);
  expect(hc.MemorySwap).toBe(256 * 1024 * 1024);
  expect(hc.NanoCpus).toBe(1_500_000_000);
  expect(hc.PidsLimit).toBe(50);
  expect(hc.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
  const id = (await berthd.dockerOk(['inspect', '-f', '{{.Id}}', name])).trim();
  expect(fs.readFileSync(`/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(128 * 1024 * 1024));
  expect(fs.readFileSync(`/sys/fs/cgroup/cpu/berth/${id}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('150000');
  expect(fs.readFileSync(`/sys/fs/cgroup/pids/berth/${id}/pids.max`, 'utf8').trim()).toBe('50');
  const bad = await berthd.docker(['update', '--memory', '1m', name]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('Minimum memory limit allowed is 6MB');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('container prune removes stopped containers only, honouring label filters', async ({ freshBerthd: d }) => {
  const running = uniq('prune-run');
  const stopped = uniq('prune-stopped');
  const kept = uniq('prune-kept');
  await d.dockerOk(['run', '-d', '--name', running, 'busybox', 'sleep', '60']);
  await d.dockerOk(['run', '--name', stopped, '--label', 'drop=yes', 'busybox', 'true']);
  await d.dockerOk(['run', '--name', kept, '--label', 'keep=yes', 'busybox', 'true']);
  const out = await d.dockerOk(['container', 'prune', '-f', '--filter', 'label!=keep=yes']);
  expect(out).toMatch(/Deleted Containers:\n[a-f0-9]{64}\n/);
  const names = (await d.dockerOk(['ps', '-a', '--format', '{{.Names}}'])).trim().split('\n').sort();
  expect(names).toEqual([kept, running].sort());
  await d.dockerOk(['container', 'prune', '-f']);
  expect((await d.dockerOk(['ps', '-a', '--format', '{{.Names}}'])).trim()).toBe(running);
});

test('rmi -f of an image a stopped container uses: the container keeps its layers and still starts', async ({ freshBerthd: d }) => {
  await d.importBusybox('doomed:1');
  const name = uniq('orphan');
  await d.dockerOk(['run', '--name', name, 'doomed:1', 'sh', '-c', 'echo first']);
  const imageId = (await d.dockerOk(['inspect', '-f', '{{.Image}}', name])).trim();
  await d.dockerOk(['rmi', '-f', 'doomed:1']);
  // busybox:latest is the same content: delete it too so no image holds the layer.
  await d.dockerOk(['rmi', '-f', 'busybox:latest']);
  expect((await d.docker(['image', 'inspect', imageId])).code).toBe(1);
  expect(await d.dockerOk(['start', '-a', name])).toBe('first\n');
  expect((await d.dockerOk(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Image}}'])).trim()).toBe(imageId.slice(7, 19));
  // After a daemon restart (which garbage-collects unused layers) it still works.
  await d.restart();
  expect(await d.dockerOk(['start', '-a', name])).toBe('first\n');
  expect(await d.dockerOk(['logs', name])).toBe('first\nfirst\nfirst\n');
  await d.dockerOk(['rm', name]);
});
