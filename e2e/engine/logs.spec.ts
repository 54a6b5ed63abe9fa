/**
 * `docker logs`: json-file semantics (tail, timestamps, since/until, follow,
 * stream separation, TTY), rotation with max-size/max-file, log driver none.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';
import { Demuxer } from '../../engine/api/streams/multiplex.js';

test.describe.configure({ mode: 'parallel' });

test('tail, timestamps, stdout/stderr separation', async ({ berthd }) => {
  const name = uniq('logs');
  await berthd.dockerOk(['run', '--name', name, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done']);
  const all = await berthd.docker(['logs', name]);
  expect(all.stdout).toBe('out1\nout2\nout3\nout4\nout5\n');
  expect(all.stderr).toBe('err1\nerr2\nerr3\nerr4\nerr5\n');
  // Order across stdout and stderr depends on when the monitor read each pipe, as with Docker: tail one stream.
  const one = uniq('tail');
  await berthd.dockerOk(['run', '--name', one, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; done']);
  expect((await berthd.docker(['logs', '--tail', '2', one])).stdout).toBe('out4\nout5\n');
  expect((await berthd.docker(['logs', '--tail', '0', one])).stdout).toBe('');
  expect((await berthd.docker(['logs', '--tail', '99', one])).stdout).toBe('out1\nout2\nout3\nout4\nout5\n');
  const ts = (await berthd.dockerOk(['logs', '-t', name])).split('\n').filter(Boolean);
  expect(ts).toHaveLength(5);
  for (const l of ts) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\d$/);
  const missing = await berthd.docker(['logs', 'no-such-container-here']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('No such container: no-such-container-here');
});

test('since and until select by time', async ({ berthd }) => {
  const name = uniq('since');
  await berthd.dockerOk(['run', '--name', name, 'busybox', 'sh', '-c', 'echo early; sleep 1.5; echo late']);
  const lines = (await berthd.dockerOk(['logs', '-t', name])).trim().split('\n');
  const lateTs = lines[1]!.split(' ')[0]!;
  const cut = new Date(Date.parse(lateTs) - 500).toISOString();
  expect(await berthd.dockerOk(['logs', '--since', cut, name])).toBe('late\n');
  expect(await berthd.dockerOk(['logs', '--until', cut, name])).toBe('early\n');
  const unix = (Date.parse(lateTs) / 1000 - 0.5).toFixed(3);
  expect(await berthd.dockerOk(['logs', '--since', unix, name])).toBe('late\n');
});

test('follow streams new lines and ends when the container stops', async ({ berthd }) => {
  const name = uniq('follow');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick$i; sleep 0.4; done']);
  const p = spawn('docker', ['logs', '-f', name], { env: berthd.env });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await expect.poll(() => out, { timeout: 5000 }).toContain('tick1');
  expect(out).not.toContain('tick3');
  const code = await new Promise<number | null>((r) => p.once('exit', r));
  expect(code).toBe(0);
  expect(out).toBe('tick1\ntick2\ntick3\n');
  // Following an already-stopped container returns at once.
  const t0 = Date.now();
  expect(await berthd.dockerOk(['logs', '-f', name])).toBe('tick1\ntick2\ntick3\n');
  expect(Date.now() - t0).toBeLessThan(3000);
});

test('TTY containers log raw output with CRLF', async ({ berthd }) => {
  const name = uniq('ttylog');
  await berthd.dockerOk(['run', '-t', '--name', name, 'busybox', 'sh', '-c', 'echo one; echo two >&2']);
  expect((await berthd.docker(['logs', name])).stdout).toBe('one\r\ntwo\r\n');
});

test('API stream framing: multiplexed headers and types, tail=all, dockerode demux', async ({ berthd }) => {
  const name = uniq('frames');
  await berthd.dockerOk(['run', '--name', name, 'busybox', 'sh', '-c', 'printf "a\\n"; sleep 0.2; printf "b\\n" >&2; sleep 0.2; printf "partial"']);
  const buf = (await berthd.client().getContainer(name).logs({ stdout: true, stderr: true, follow: false, tail: 'all' as unknown as number })) as Buffer;
  const frames: Array<[number, string]> = [];
  new Demuxer().push(buf, (s, p) => frames.push([s, p.toString()]));
  expect(frames).toEqual([
    [1, 'a\n'],
    [2, 'b\n'],
    [1, 'partial'],
  ]);
  const stderrOnly = await berthd.docker(['logs', name]);
  expect(stderrOnly.stdout).toBe('a\npartial');
});

test('max-size and max-file rotate the log and keep the newest lines', async ({ berthd }) => {
  const name = uniq('rotate');
  await berthd.dockerOk([
    'run', '-d', '--name', name, '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3',
    'busybox', 'sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i padding-padding-padding"; i=$((i+1)); [ $((i % 100)) -eq 0 ] && sleep 0.15; done; sleep 1',
  ]);
  await berthd.dockerOk(['wait', name]);
  const logPath = (await berthd.dockerOk(['inspect', '-f', '{{.LogPath}}', name])).trim();
  const files = fs.readdirSync(logPath.replace(/\/[^/]+$/, '')).filter((f) => f.startsWith('container.log'));
  expect(files.length).toBeLessThanOrEqual(3);
  expect(files.length).toBeGreaterThanOrEqual(2);
  const out = (await berthd.dockerOk(['logs', name])).trim().split('\n');
  expect(out[out.length - 1]).toBe('line 2999 padding-padding-padding');
  // Old lines were rotated away; what remains is a contiguous tail.
  expect(out.length).toBeLessThan(3000);
  const first = Number(out[0]!.split(' ')[1]);
  expect(out.map((l) => Number(l.split(' ')[1]))).toEqual(Array.from({ length: out.length }, (_, i) => first + i));
  // As dockerd 20.10 at create (docker-py's suite relies on it): max-file alone is accepted (only
  // daemon.json refuses it), but it must still be a count.
  expect((await berthd.docker(['run', '--rm', '--log-opt', 'max-file=2', 'busybox', 'true'])).code).toBe(0);
  const bad = await berthd.docker(['run', '--rm', '--log-opt', 'max-file=0', 'busybox', 'true']);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain('max-file cannot be less than 1');
});

test("logs are capped by default (20m × 5, as Docker's local driver) and a spamming container stays within its limits", async ({ berthd }) => {
  const quiet = uniq('logdefault');
  const spam = uniq('logspam');
  const capped = uniq('logcapped');
  try {
    await berthd.dockerOk(['create', '--name', quiet, 'busybox', 'true']);
    // As a dockerd without log-opts shows it (docker-py's test_valid_no_config_specified): the caps
    // are the daemon's default, not options the user gave.
    expect(JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .HostConfig.LogConfig}}', quiet]))).toEqual({ Type: 'json-file', Config: {} });
    // ... and they still apply: 26 MB of output under the defaults are cut into files of at most
    // 20 MiB each (the log's own framing makes them more than 26 MB on disk), all kept (≤ 5).
    await berthd.dockerOk(['run', '-d', '--name', capped, '--network', 'none', 'busybox', 'sh', '-c', 'yes 0123456789abcdef0123456789abcdef | head -c 26000000']);
    expect((await berthd.dockerOk(['wait', capped])).trim()).toBe('0');
    const cappedDir = path.dirname((await berthd.dockerOk(['inspect', '-f', '{{.LogPath}}', capped])).trim());
    const cappedFiles = fs.readdirSync(cappedDir).filter((f) => /^container\.log(\.\d+)?$/.test(f)).map((f) => fs.statSync(path.join(cappedDir, f)).size);
    expect(cappedFiles.length).toBeGreaterThanOrEqual(2);
    expect(cappedFiles.length).toBeLessThanOrEqual(5);
    for (const size of cappedFiles) expect(size).toBeLessThanOrEqual(20 * 1024 * 1024);
    const cappedTotal = cappedFiles.reduce((a, b) => a + b, 0);
    expect(cappedTotal).toBeGreaterThan(26_000_000);
    expect(Number(await berthd.dockerOk(['inspect', '-f', '{{.LogSize}}', capped]))).toBe(cappedTotal);
    // As fast as a container can write: the monitor cuts at max-size, berthd keeps max-file files.
    await berthd.dockerOk(['run', '-d', '--name', spam, '--network', 'none', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'yes "$(printf %0100d 7)"']);
    const logPath = (await berthd.dockerOk(['inspect', '-f', '{{.LogPath}}', spam])).trim();
    const dir = path.dirname(logPath);
    // The log and its kept files (conmon writes a cut's new file as container.log.tmp first).
    const sizes = () => fs.readdirSync(dir).filter((f) => /^container\.log(\.\d+)?$/.test(f)).map((f) => [f, fs.statSync(path.join(dir, f)).size] as const);
    // Under load the writer may need more than a few seconds for three files; never more than three.
    await expect.poll(() => sizes().map(([f]) => f).sort(), { timeout: 30_000 }).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    await new Promise((r) => setTimeout(r, 1_000));
    const seen = sizes();
    expect(seen.map(([f]) => f).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    for (const [f, size] of seen) expect(size, f).toBeLessThanOrEqual(1024 * 1024);
    await berthd.dockerOk(['stop', '-t', '0', spam]);
    const after = sizes();
    const total = after.reduce((n, [, s]) => n + s, 0);
    expect(total).toBeLessThanOrEqual(3 * 1024 * 1024);
    expect(total).toBeGreaterThan(1024 * 1024);
    // docker inspect reports what the log uses; docker logs reads across the kept files.
    expect(Number(await berthd.dockerOk(['inspect', '-f', '{{.LogSize}}', spam]))).toBe(total);
    const tail = (await berthd.dockerOk(['logs', '--tail', '3', spam])).split('\n').filter(Boolean);
    expect(tail.length).toBe(3);
    const lines = (await berthd.dockerOk(['logs', spam])).split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10_000);
    // Whole lines, except at the two ends: the last one was cut by the stop, and the oldest kept file
    // may begin with the end of a line whose start was in a file already removed (conmon writes what
    // one read of the pipe gave as a partial entry, and a cut can fall between it and its end).
    expect(new Set(lines.slice(1, -1))).toEqual(new Set([`${'0'.repeat(99)}7`]));
    // -1 turns the limit off (json-file's notation).
    const unlimited = await berthd.docker(['run', '--rm', '--log-opt', 'max-size=-1', 'busybox', 'echo', 'ok']);
    expect(unlimited.stdout).toBe('ok\n');
  } finally {
    await berthd.docker(['rm', '-f', quiet, spam, capped]);
  }
});

test('log driver none: attach still works, logs cannot be read', async ({ berthd }) => {
  const name = uniq('nolog');
  expect(await berthd.dockerOk(['run', '--name', name, '--log-driver', 'none', 'busybox', 'echo', 'visible'])).toBe('visible\n');
  const r = await berthd.docker(['logs', name]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('configured logging driver does not support reading');
});
