import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeqpacketClient } from './seqpacket.js';

/**
 * A real SOCK_SEQPACKET peer (Python's socket module makes them; Node cannot). It accepts one
 * client, waits for "go" on stdin, tries to write to the client (as
 * conmon writes output to attach clients), then reports each packet's length and first byte.
 */
const PEER = String.raw`
import socket, sys, os, errno
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(path); srv.listen(4)
print("listening", flush=True)
c, _ = srv.accept()
# Writes only once the test says the client is connected (its read side is shut by then).
sys.stdin.readline()
try:
    c.send(b"o" * 100)
    c.send(b"o" * 100)
    print("write ok", flush=True)
except OSError as e:
    print("write " + errno.errorcode[e.errno], flush=True)
while True:
    b = c.recv(65536)
    if not b:
        print("eof", flush=True); break
    print("packet %d %d" % (len(b), b[0]), flush=True)
`;

// Each test starts a Python peer: seconds on a loaded machine, which is not what these tests measure.
describe('SOCK_SEQPACKET client through koffi', { timeout: 30_000 }, () => {
  let dir: string;
  let peer: ChildProcess | undefined;
  let lines: string[];
  let waiters: Array<() => void>;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqpacket-'));
    lines = [];
    waiters = [];
  });
  afterEach(() => {
    peer?.kill('SIGKILL');
    peer = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function startPeer(socketPath: string): void {
    peer = spawn('python3', ['-c', PEER, socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: peer.stdout! }).on('line', (l) => {
      lines.push(l);
      for (const w of waiters.splice(0)) w();
    });
  }
  async function until(pred: (l: string[]) => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(lines)) {
      if (Date.now() > deadline) throw new Error(`peer said: ${lines.join(' | ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  it('sends packets with their boundaries, refuses the peer output, and ends with EOF on close', async () => {
    const sock = path.join(dir, 'attach');
    startPeer(sock);
    await until((l) => l.includes('listening'));
    const c = await SeqpacketClient.connect(sock);
    peer!.stdin!.write('go\n');
    await until((l) => l.some((x) => x.startsWith('write')));
    await c.send(Buffer.from('a'.repeat(10)));
    await c.send(Buffer.from('b'.repeat(3000)));
    c.close();
    expect(c.closed).toBe(true);
    c.close();
    await until((l) => l.includes('eof'));
    // The read side is shut: a peer writing output gets EPIPE instead of blocking.
    expect(lines).toContain('write EPIPE');
    expect(lines.filter((l) => l.startsWith('packet'))).toEqual([`packet 10 ${'a'.charCodeAt(0)}`, `packet 3000 ${'b'.charCodeAt(0)}`]);
    await expect(c.send(Buffer.from('x'))).rejects.toThrow('closed attach socket');
  });

  it('waits without blocking while the peer does not read, then delivers everything in order', async () => {
    const sock = path.join(dir, 'attach');
    startPeer(sock);
    await until((l) => l.includes('listening'));
    const c = await SeqpacketClient.connect(sock);
    const packet = (i: number) => Buffer.alloc(16 * 1024, i % 200);
    // Far more than a unix socket buffers: sends must wait for the peer.
    const sending = (async () => {
      for (let i = 0; i < 200; i++) await c.send(packet(i));
    })();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(20); // the event loop kept running
    peer!.stdin!.write('go\n');
    await sending;
    c.close();
    await until((l) => l.includes('eof'), 20000);
    const got = lines.filter((l) => l.startsWith('packet'));
    expect(got).toHaveLength(200);
    expect(got.every((l, i) => l === `packet ${16 * 1024} ${i % 200}`)).toBe(true);
  });

  it('reaches a socket whose path is longer than sun_path', async () => {
    const deep = path.join(dir, 'd'.repeat(60), 'e'.repeat(60));
    fs.mkdirSync(deep, { recursive: true });
    const sock = path.join(deep, 'attach');
    // Python cannot bind the long path either: bind it relative to its directory.
    peer = spawn('sh', ['-c', `cd "${deep}" && exec python3 -c "$0" attach`, PEER], { stdio: ['pipe', 'pipe', 'inherit'] });
    readline.createInterface({ input: peer.stdout! }).on('line', (l) => lines.push(l));
    await until((l) => l.includes('listening'));
    expect(Buffer.byteLength(sock)).toBeGreaterThan(108);
    const c = await SeqpacketClient.connect(sock);
    peer.stdin!.write('go\n');
    await until((l) => l.some((x) => x.startsWith('write')));
    await c.send(Buffer.from('hi'));
    c.close();
    await until((l) => l.includes('eof'));
    expect(lines).toContain(`packet 2 ${'h'.charCodeAt(0)}`);
  });

  it('says why a connection fails', async () => {
    await expect(SeqpacketClient.connect(path.join(dir, 'missing'))).rejects.toThrow(`connecting to ${path.join(dir, 'missing')}: No such file or directory`);
    fs.writeFileSync(path.join(dir, 'plain'), '');
    await expect(SeqpacketClient.connect(path.join(dir, 'plain'))).rejects.toThrow('Connection refused');
  });
});
