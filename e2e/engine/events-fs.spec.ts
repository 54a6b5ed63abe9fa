/**
 * `docker events` (stream, filters, since/until) and the container
 * filesystem commands `export` and `diff`.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';

test('events: lifecycle actions in order, with filters and attributes', async ({ berthd }) => {
  const name = uniq('ev');
  const since = Math.floor(Date.now() / 1000) - 1;
  const live = spawn('docker', ['events', '--filter', `container=${name}`, '--format', '{{json .}}'], { env: berthd.env });
  let out = '';
  live.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => setTimeout(r, 300));
  await berthd.dockerOk(['run', '--name', name, '--label', 'team=qa', 'busybox', 'sh', '-c', 'exit 3']).catch(() => undefined);
  await berthd.docker(['start', '-a', name]);
  await berthd.dockerOk(['rm', name]);
  await expect.poll(() => out, { timeout: 5000 }).toContain('"destroy"');
  live.kill();
  const events = out.trim().split('\n').map((l) => JSON.parse(l));
  expect(events.map((e) => e.Action)).toEqual(['create', 'attach', 'start', 'die', 'attach', 'start', 'die', 'destroy']);
  const die = events.find((e) => e.Action === 'die');
  expect(die).toMatchObject({ Type: 'container', status: 'die', from: 'busybox', scope: 'local', Actor: { Attributes: { exitCode: '3', name, image: 'busybox', team: 'qa' } } });
  expect(die.id).toMatch(/^[a-f0-9]{64}$/);
  expect(typeof die.time).toBe('number');
  expect(typeof die.timeNano).toBe('number');
  // Replay with since/until returns at once.
  const until = Math.floor(Date.now() / 1000) + 1;
  const replay = await berthd.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', `container=${name}`, '--filter', 'event=die', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
  expect(replay.trim().split('\n')).toEqual(['die 3', 'die 3']);
  const typeFilter = await berthd.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'type=image', '--filter', 'event=tag', '--format', '{{.Type}}']);
  expect(typeFilter.trim().split('\n').filter(Boolean).every((l) => l === 'image')).toBe(true);
  const bad = await berthd.docker(['events', '--filter', 'colour=blue', '--until', String(until)]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("invalid filter 'colour'");
});

test('export writes the container filesystem as a tar; diff lists changes', async ({ berthd }) => {
  const name = uniq('fs');
  await berthd.dockerOk(['run', '--name', name, 'busybox', 'sh', '-c', 'mkdir -p /data && echo payload > /data/file && rm /bin/vi && echo changed >> /etc/passwd']);
  const diff = (await berthd.dockerOk(['diff', name])).trim().split('\n');
  expect(diff).toEqual(expect.arrayContaining(['A /data', 'A /data/file', 'C /bin', 'D /bin/vi', 'C /etc', 'C /etc/passwd']));
  // The init layer's mount points are not changes.
  expect(diff.some((l) => /\/(\.dockerenv|etc\/hosts|etc\/hostname|etc\/resolv\.conf)$/.test(l))).toBe(false);
  const tarFile = path.join(os.tmpdir(), `${uniq('export')}.tar`);
  try {
    await berthd.dockerOk(['export', '-o', tarFile, name]);
    const list = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).split('\n');
    expect(list).toEqual(expect.arrayContaining(['./data/file', './bin/busybox', './etc/passwd']));
    expect(list).not.toContain('./bin/vi');
    const content = execFileSync('tar', ['-xOf', tarFile, './data/file'], { encoding: 'utf8' });
    expect(content).toBe('payload\n');
    // The export re-imports as a working image.
    const img = uniq('reimported').toLowerCase();
    await berthd.dockerOk(['import', tarFile, img]);
    expect(await berthd.dockerOk(['run', '--rm', img, 'cat', '/data/file'])).toBe('payload\n');
    await berthd.dockerOk(['rmi', img]);
  } finally {
    fs.rmSync(tarFile, { force: true });
  }
  // A running container can be exported too.
  const running = uniq('fs-running');
  await berthd.dockerOk(['run', '-d', '--name', running, 'busybox', 'sh', '-c', 'echo live > /live; sleep 60']);
  await expect.poll(async () => (await berthd.docker(['exec', running, 'cat', '/live'])).stdout).toBe('live\n');
  const out = execFileSync('sh', ['-c', `docker export ${running} | tar -xOf - ./live`], { env: berthd.env, encoding: 'utf8' });
  expect(out).toBe('live\n');
  await berthd.dockerOk(['rm', '-f', name, running]);
});
