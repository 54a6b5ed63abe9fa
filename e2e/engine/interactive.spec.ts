/**
 * Interactive use through a real pseudo-terminal: `docker run -it`,
 * `docker exec -it`, `docker attach` with detach keys, `docker start -ai`.
 */
import { test, expect, uniq } from '../support/fixtures.js';
import { PtySession } from '../support/pty.js';

test.describe.configure({ mode: 'parallel' });

test('run -it: type into sh, see output, exit with a code', async ({ berthd }) => {
  const s = new PtySession(['docker', 'run', '-it', '--rm', 'busybox', 'sh'], berthd.env, { rows: 33, cols: 101 });
  try {
    await s.waitFor('# ');
    s.write('echo $((6*7)); stty size; tty\r');
    await s.waitFor('42');
    await s.waitFor('33 101');
    await s.waitFor('/dev/pts/0');
    s.write('exit 7\r');
    expect(await s.exited).toBe(7);
  } finally {
    s.kill();
  }
});

test('exec -it into a running container; leaving it does not stop the container', async ({ berthd }) => {
  const name = uniq('execit');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '120']);
  const s = new PtySession(['docker', 'exec', '-it', '-e', 'GREETING=hi', '-w', '/tmp', name, 'sh'], berthd.env, { rows: 40, cols: 120 });
  try {
    await s.waitFor('# ');
    s.write('echo $GREETING-$(pwd); stty size\r');
    await s.waitFor('hi-/tmp');
    await s.waitFor('40 120');
    s.write('exit 4\r');
    expect(await s.exited).toBe(4);
  } finally {
    s.kill();
  }
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim()).toBe('running');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('attach to a -dit container, detach with ctrl-p ctrl-q, container keeps running', async ({ berthd }) => {
  const name = uniq('attach');
  await berthd.dockerOk(['run', '-dit', '--name', name, 'busybox', 'sh']);
  const a = new PtySession(['docker', 'attach', name], berthd.env);
  try {
    await new Promise((r) => setTimeout(r, 300));
    a.write('echo attached-$((20+3))\r');
    await a.waitFor('attached-23');
    a.write('\x10\x11');
    await a.waitFor('read escape sequence');
    await a.exited;
  } finally {
    a.kill();
  }
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim()).toBe('running');
  // Attach again: the same shell is still there, then exit it (leaving the attached shell stops the container).
  const b = new PtySession(['docker', 'attach', name], berthd.env);
  try {
    await new Promise((r) => setTimeout(r, 300));
    b.write('echo again\r');
    await b.waitFor('again');
    b.write('exit 3\r');
    expect(await b.exited).toBe(3);
  } finally {
    b.kill();
  }
  await expect.poll(async () => (await berthd.dockerOk(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).trim()).toBe('exited 3');
  await berthd.dockerOk(['rm', name]);
});

test('custom detach keys', async ({ berthd }) => {
  const name = uniq('detachkeys');
  await berthd.dockerOk(['run', '-dit', '--name', name, 'busybox', 'sh']);
  const a = new PtySession(['docker', 'attach', '--detach-keys', 'ctrl-x,x', name], berthd.env);
  try {
    await new Promise((r) => setTimeout(r, 300));
    a.write('echo before\r');
    await a.waitFor('before');
    a.write('\x18x');
    await a.waitFor('read escape sequence');
  } finally {
    a.kill();
  }
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim()).toBe('running');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('start -ai reattaches a terminal to a stopped container', async ({ berthd }) => {
  const name = uniq('startai');
  await berthd.dockerOk(['create', '-it', '--name', name, 'busybox', 'sh']);
  const s = new PtySession(['docker', 'start', '-ai', name], berthd.env);
  try {
    await s.waitFor('# ');
    s.write('echo inside-start\r');
    await s.waitFor('inside-start');
    s.write('exit 0\r');
    expect(await s.exited).toBe(0);
  } finally {
    s.kill();
  }
  await berthd.dockerOk(['rm', name]);
});

test('resize of a TTY container through the API', async ({ berthd }) => {
  const name = uniq('resize');
  await berthd.dockerOk(['run', '-dit', '--name', name, 'busybox', 'sh']);
  const c = berthd.client().getContainer(name);
  await c.resize({ h: 17, w: 71 });
  expect(await berthd.dockerOk(['exec', name, 'sh', '-c', 'stty size < /proc/1/fd/0'])).toBe('17 71\n');
  await berthd.dockerOk(['rm', '-f', name]);
});
