/**
 * Races and crashes around the container lifecycle (issue 10 items 4 and 5, issue 16 item 10):
 * `docker rm -f` while `docker start` runs, kill -9 of berthd in the middle of `docker run`,
 * the first `docker exec` after such a restart, and exec state after its container is gone.
 * After each round, what the daemon records must match what exists on the host
 * (support/consistency.ts): no namespace, veth, mount, runc state or monitor of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { inconsistencies, type DaemonPaths } from '../support/consistency.js';

function paths(d: Berthd): DaemonPaths {
  return { dataRoot: d.dataRoot, execRoot: d.execRoot, bridge: d.net!.bridge, docker: (args) => d.docker(args) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('rm -f during start: 15 rounds leave no network namespace, veth, mount or monitor (issue 10 item 4)', async ({ freshBerthd: d }) => {
  test.setTimeout(180_000);
  expect(await inconsistencies(paths(d))).toEqual([]);
  const leaks: string[] = [];
  for (let i = 0; i < 15; i++) {
    const name = uniq(`rmstart-${i}`);
    await d.dockerOk(['create', '--name', name, '-p', '127.0.0.1::80', 'busybox', 'sleep', '30']);
    const starting = d.docker(['start', name]);
    await sleep(Math.random() * 300);
    await d.dockerOk(['rm', '-f', name]);
    await starting;
    // The start either won (and the container was killed and removed) or lost (no such container).
    const problems = await inconsistencies(paths(d));
    if (problems.length > 0) leaks.push(`round ${i}: ${problems.join('; ')}`);
  }
  expect(leaks).toEqual([]);
  expect(fs.readdirSync(path.join(d.execRoot, 'netns'))).toEqual([]);
  expect(fs.readdirSync(path.join(d.dataRoot, 'overlay', 'containers'))).toEqual([]);
  expect(await d.dockerOk(['ps', '-aq'])).toBe('');
});

test('kill -9 of berthd during docker run, 20 rounds: every record matches the host after the restart, and the first exec works (issue 10 item 5)', async ({ freshBerthd: d }) => {
  test.setTimeout(300_000);
  const keeper = uniq('keeper');
  await d.dockerOk(['run', '-d', '--name', keeper, '-v', `${uniq('keepvol')}:/data`, 'busybox', 'sleep', '600']);
  const failures: string[] = [];
  for (let i = 0; i < 20; i++) {
    const running = d.docker(['run', '-d', '--name', uniq(`crash-${i}`), '-v', `${uniq(`vol-${i}`)}:/data`, 'busybox', 'sleep', '600']);
    await sleep(50 + Math.random() * 350);
    await d.kill9();
    await running;
    await d.launch();
    const problems = await inconsistencies(paths(d));
    if (problems.length > 0) failures.push(`round ${i}: ${problems.join('; ')}`);
    // Right after the restart: exec into the container that ran all along.
    const exec = await d.docker(['exec', keeper, 'sh', '-c', 'echo ok > /data/x && cat /data/x']);
    if (exec.code !== 0 || exec.stdout !== 'ok\n') failures.push(`round ${i}: first exec after restart: exit ${exec.code} ${exec.stdout.trim()} ${exec.stderr.trim()}`);
  }
  expect(failures).toEqual([]);
  // Whatever each round left is usable: the containers start, stop and go away cleanly.
  const ids = (await d.dockerOk(['ps', '-aq'])).split('\n').filter(Boolean);
  for (const id of ids) {
    const st = (await d.dockerOk(['inspect', '-f', '{{.State.Status}}', id])).trim();
    if (st !== 'running') await d.dockerOk(['start', id]);
  }
  expect(await inconsistencies(paths(d))).toEqual([]);
  await d.dockerOk(['rm', '-f', ...ids]);
  expect(await inconsistencies(paths(d))).toEqual([]);
});

test('exec state goes with its container: nothing of a removed container stays under the exec root (issue 16 item 10)', async ({ freshBerthd: d }) => {
  const execDir = path.join(d.execRoot, 'e');
  const ours = () => fs.readdirSync(execDir);
  const name = uniq('execdirs');
  await d.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
  // Finished, detached, TTY and still-running sessions, then the container goes.
  expect(await d.dockerOk(['exec', name, 'echo', 'hi'])).toBe('hi\n');
  await d.dockerOk(['exec', '-d', name, 'sleep', '200']);
  await d.dockerOk(['exec', '-dt', name, 'sleep', '200']);
  const attached = d.docker(['exec', name, 'sleep', '200']);
  await expect.poll(() => ours().length, { timeout: 5000 }).toBe(3);
  await d.dockerOk(['rm', '-f', name]);
  await attached;
  await expect.poll(ours, { timeout: 5000 }).toEqual([]);
  // A container that stops while sessions run, then is removed.
  const stopped = uniq('execstop');
  await d.dockerOk(['run', '-d', '--name', stopped, 'busybox', 'sleep', '300']);
  await d.dockerOk(['exec', '-d', stopped, 'sleep', '200']);
  await expect.poll(() => ours().length, { timeout: 5000 }).toBe(1);
  await d.dockerOk(['stop', '-t', '0', stopped]);
  await d.dockerOk(['rm', stopped]);
  await expect.poll(ours, { timeout: 5000 }).toEqual([]);
  // Sessions that were running when the daemon died belong to nobody after a restart.
  const survivor = uniq('execrestart');
  await d.dockerOk(['run', '-d', '--name', survivor, 'busybox', 'sleep', '300']);
  await d.dockerOk(['exec', '-d', survivor, 'sleep', '200']);
  await expect.poll(() => ours().length, { timeout: 5000 }).toBe(1);
  await d.kill9();
  await d.launch();
  expect(ours()).toEqual([]);
  await d.dockerOk(['rm', '-f', survivor]);
  expect(ours()).toEqual([]);
});
