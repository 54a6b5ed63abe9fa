import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Logger } from '../daemon/log.js';
import { sendText } from './context.js';
import { Router } from './router.js';
import { ApiServer } from './server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-api-server-'));
  const sock = path.join(dir, 'api.sock');
  const server = new ApiServer(new Router().get('/_ping', (ctx) => sendText(ctx, 200, 'OK')), new Logger('error'));
  await server.listen(server.prepare([`unix://${sock}`], { socketGroup: '' }));
  cleanups.push(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return sock;
}

/** Sends one GET on an open connection and resolves with the response head. */
function ping(conn: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (b: Buffer) => {
      got += b.toString('latin1');
      if (got.includes('\r\n\r\n') && got.endsWith('OK')) {
        conn.off('data', onData);
        resolve(got.split('\r\n')[0]!);
      }
    };
    conn.on('data', onData);
    conn.once('error', reject);
    conn.once('close', () => reject(new Error(`connection closed; got ${JSON.stringify(got)}`)));
    conn.write('GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n');
  });
}

describe('ApiServer keep-alive', () => {
  it('keeps an idle keep-alive connection open past Node’s 5 s default, as dockerd does', async () => {
    const sock = await serve();
    const conn = net.connect(sock);
    cleanups.push(() => void conn.destroy());
    await new Promise<void>((resolve) => conn.once('connect', resolve));
    expect(await ping(conn)).toBe('HTTP/1.1 200 OK');
    await new Promise((r) => setTimeout(r, 6_000));
    expect(conn.destroyed).toBe(false);
    expect(await ping(conn)).toBe('HTTP/1.1 200 OK');
  }, 20_000);
});
