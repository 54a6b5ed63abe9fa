import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiSocket } from './api-socket.js';

describe('the engine API socket on the host', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('answers 503 while the VM is not running, and closes even while clients keep their connections open', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apisock-'));
    dirs.push(dir);
    const sockPath = path.join(dir, 'docker.sock');
    const api = new ApiSocket(sockPath, () => undefined, () => 'the Berth VM is stopped');
    await api.listen();
    // Clients as a keep-alive pool leaves them: the request sent, the socket never ended.
    const clients = await Promise.all(
      Array.from({ length: 5 }, () =>
        new Promise<{ sock: net.Socket; reply: Promise<string> }>((resolve) => {
          const sock = net.connect(sockPath, () => {
            sock.write('GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n');
            let got = '';
            const reply = new Promise<string>((r) => {
              sock.on('data', (b) => {
                got += b.toString();
                if (got.includes('\r\n\r\n{')) r(got);
              });
            });
            resolve({ sock, reply });
          });
          sock.on('error', () => undefined);
        }),
      ),
    );
    for (const c of clients) {
      const text = await c.reply;
      expect(text).toMatch(/^HTTP\/1.1 503 /);
      expect(text).toContain('{"message":"the Berth VM is stopped"}');
    }
    const closing = api.close();
    const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(() => r('hung'), 3000))]);
    expect(outcome).toBe('closed');
    expect(fs.existsSync(sockPath)).toBe(false);
    for (const c of clients) c.sock.destroy();
  });
});
