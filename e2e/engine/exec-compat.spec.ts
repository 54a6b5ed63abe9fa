/**
 * Exec as docker-py and the CLI rely on it: the output framing follows the START request's Tty
 * (the process's terminal follows create), DetachKeys given at create (in any letter case, as Go
 * decodes JSON), ctrl-p ctrl-q detaching `docker exec -it` every time, and 126 for an exec that
 * cannot start.
 */
import net from 'node:net';
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { PtySession } from '../support/pty.js';
import { Demuxer } from '../../engine/api/streams/multiplex.js';
import { rawApi } from '../support/registry.js';
import { rawHijack } from '../support/hijack.js';

async function execCreate(d: Berthd, container: string, body: Record<string, unknown>): Promise<string> {
  const r = await rawApi(d, 'POST', `/v1.41/containers/${container}/exec`, JSON.stringify(body), { 'Content-Type': 'application/json' });
  expect(r.status, r.body.toString()).toBe(201);
  return (JSON.parse(r.body.toString()) as { Id: string }).Id;
}

/**
 * POST /exec/{id}/start upgraded; returns the response head, and the socket with what followed.
 * `splitBody` writes the headers and the body apart, as the docker CLI does (Go flushes the headers
 * before a body that is not an in-memory reader), so the body reaches berthd after the upgrade.
 */
function execStart(d: Berthd, id: string, body: Record<string, unknown>, splitBody = false): Promise<{ sock: net.Socket; head: string; rest: Buffer }> {
  const json = JSON.stringify(body);
  const headers = `POST /v1.41/exec/${id}/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
  return splitBody ? rawHijack(d, headers, { data: json, afterMs: 200 }) : rawHijack(d, headers + json);
}

function readAll(sock: net.Socket, first: Buffer): Promise<Buffer> {
  const chunks = [first];
  sock.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => sock.on('close', () => resolve(Buffer.concat(chunks))));
}

// Pauses between the writes: without a terminal, stdout and stderr are separate pipes with no order between them.
const CMD = ['sh', '-c', 'echo hello out; sleep 0.3; echo hello err >&2; sleep 0.3; test -t 1 && echo has-tty || echo no-tty'];

test("exec framing follows the start request's Tty; the process's terminal follows create", async ({ berthd }) => {
  const name = uniq('framing');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '60']);
  try {
    // Created with a terminal, started with Tty false (docker-py's default): multiplexed frames,
    // the terminal's merged output on stdout, CRLF line ends.
    const a = await execCreate(berthd, name, { Cmd: CMD, Tty: true, AttachStdout: true, AttachStderr: true });
    const sa = await execStart(berthd, a, { Detach: false, Tty: false });
    expect(sa.head).toMatch(/^HTTP\/1.1 101/);
    expect(sa.head).toContain('Content-Type: application/vnd.docker.multiplexed-stream');
    const frames: Array<[number, string]> = [];
    new Demuxer().push(await readAll(sa.sock, sa.rest), (s, p) => frames.push([s, p.toString()]));
    expect(frames.every(([s]) => s === 1)).toBe(true);
    expect(frames.map(([, p]) => p).join('')).toBe('hello out\r\nhello err\r\nhas-tty\r\n');

    // Created without one, started with Tty true: raw bytes, stdout and stderr merged, no terminal.
    const b = await execCreate(berthd, name, { Cmd: CMD, Tty: false, AttachStdout: true, AttachStderr: true });
    const sb = await execStart(berthd, b, { Detach: false, Tty: true });
    expect(sb.head).toContain('Content-Type: application/vnd.docker.raw-stream');
    expect((await readAll(sb.sock, sb.rest)).toString()).toBe('hello out\nhello err\nno-tty\n');

    // Both the same way: as before.
    const c = await execCreate(berthd, name, { Cmd: CMD, Tty: true, AttachStdout: true, AttachStderr: true });
    const sc = await execStart(berthd, c, { Detach: false, Tty: true });
    expect((await readAll(sc.sock, sc.rest)).toString()).toBe('hello out\r\nhello err\r\nhas-tty\r\n');
    const d = await execCreate(berthd, name, { Cmd: CMD, AttachStdout: true, AttachStderr: true });
    const sd = await execStart(berthd, d, { Detach: false, Tty: false });
    const sep: Array<[number, string]> = [];
    new Demuxer().push(await readAll(sd.sock, sd.rest), (s, p) => sep.push([s, p.toString()]));
    expect(sep).toEqual([
      [1, 'hello out\n'],
      [2, 'hello err\n'],
      [1, 'no-tty\n'],
    ]);
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});

test('DetachKeys given at exec create are honoured, whatever their letter case', async ({ berthd }) => {
  const name = uniq('execkeys');
  await berthd.dockerOk(['run', '-d', '-i', '--name', name, 'busybox', 'cat']);
  try {
    for (const key of ['DetachKeys', 'detachKeys']) {
      const id = await execCreate(berthd, name, { Cmd: ['cat'], Tty: true, AttachStdin: true, AttachStdout: true, [key]: 'ctrl-x' });
      expect(JSON.parse((await rawApi(berthd, 'GET', `/exec/${id}/json`)).body.toString()).DetachKeys).toBe('ctrl-x');
      const s = await execStart(berthd, id, { Detach: false, Tty: true });
      const all = readAll(s.sock, s.rest);
      s.sock.write('typed\r');
      await new Promise((r) => setTimeout(r, 300));
      // ctrl-p alone is ordinary input here; ctrl-x detaches.
      s.sock.write('\x10');
      await new Promise((r) => setTimeout(r, 300));
      s.sock.write('\x18');
      const out = (await all).toString();
      expect(out).toContain('typed');
      // Detached, not ended: the exec still runs and the container too.
      const info = JSON.parse((await rawApi(berthd, 'GET', `/exec/${id}/json`)).body.toString());
      expect(info.Running).toBe(true);
    }
    expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim()).toBe('running');
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});

test('exec -it input gets through when the start body arrives after the headers (as the docker CLI often sends it)', async ({ berthd }) => {
  const name = uniq('execsplit');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '60']);
  try {
    const id = await execCreate(berthd, name, { Cmd: ['cat'], Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const s = await execStart(berthd, id, { Detach: false, Tty: true }, true);
    expect(s.head).toMatch(/^HTTP\/1.1 101/);
    let out = s.rest.toString();
    s.sock.on('data', (c: Buffer) => (out += c.toString()));
    const closed = new Promise((r) => s.sock.once('close', r));
    s.sock.write('typed-after-split\r');
    const deadline = Date.now() + 5_000;
    while (!out.includes('typed-after-split') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out, 'the typed line comes back through the terminal').toContain('typed-after-split');
    // The detach keys reach berthd too: it ends the connection, the exec keeps running.
    s.sock.write('\x10\x11');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
    expect(s.sock.destroyed || s.sock.readableEnded, 'detached').toBe(true);
    expect(JSON.parse((await rawApi(berthd, 'GET', `/exec/${id}/json`)).body.toString()).Running).toBe(true);
    s.sock.destroy();
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});

test('docker exec -it: ctrl-p ctrl-q detaches every time, promptly', async ({ berthd }) => {
  test.setTimeout(180_000);
  const name = uniq('execdetach');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
  try {
    for (let i = 0; i < 10; i++) {
      const s = new PtySession(['docker', 'exec', '-it', name, 'sh'], berthd.env);
      try {
        await s.waitFor('# ');
        s.write(`echo round-$((${i}+100))\r`);
        await s.waitFor(`round-${i + 100}`);
        const started = Date.now();
        s.write('\x10');
        await new Promise((r) => setTimeout(r, 50));
        s.write('\x11');
        await s.waitFor('read escape sequence', 10_000);
        const code = await Promise.race([s.exited, new Promise<string>((r) => setTimeout(() => r('hung'), 10_000))]);
        expect(code, `round ${i}`).not.toBe('hung');
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        s.kill();
      }
    }
    expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim()).toBe('running');
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});

test('an exec whose executable is missing or not executable exits 126 (CLI and API)', async ({ berthd }) => {
  const name = uniq('exec126');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '60']);
  try {
    const missing = await berthd.docker(['exec', name, 'nosuchcmd']);
    expect(missing.code).toBe(126);
    expect(missing.stdout + missing.stderr).toContain('executable file not found');
    const notExec = await berthd.docker(['exec', name, '/etc/passwd']);
    expect(notExec.code).toBe(126);
    const docker = berthd.client();
    const ex = await docker.getContainer(name).exec({ Cmd: ['docker', 'ps'], AttachStdout: true, AttachStderr: true });
    const stream = await ex.start({ hijack: true, stdin: false });
    await new Promise((resolve) => stream.on('end', resolve).resume());
    expect((await ex.inspect()).ExitCode).toBe(126);
    // `docker run` of a missing command keeps 127.
    expect((await berthd.docker(['run', '--rm', 'busybox', 'nosuchcmd'])).code).toBe(127);
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});
