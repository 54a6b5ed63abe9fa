import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestContext } from '../context.js';
import { clientStreams, hijack, readUpgradeBody } from './hijack.js';

const servers: http.Server[] = [];
const upgradedSockets: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const s of upgradedSockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * An upgraded exec start as the docker CLI sends it: the body read with readUpgradeBody, the
 * connection hijacked, and the client's input consumed the way the attach does (a 'data' listener).
 */
async function upgradeThenType(splitBody: boolean): Promise<{ body: string; input: string }> {
  let seen = '';
  let body = '';
  const server = http.createServer();
  servers.push(server);
  server.on('upgrade', (req, socket, head: Buffer) => {
    upgradedSockets.push(socket);
    void (async () => {
      const ctx = { req, res: undefined, upgrade: { socket, head }, params: {}, query: new URLSearchParams(), version: '1.51', path: req.url ?? '' } as RequestContext;
      body = (await readUpgradeBody(ctx)).toString();
      const streams = clientStreams(hijack(ctx, 'application/vnd.docker.raw-stream'), true);
      streams.input.on('data', (d: Buffer) => (seen += d.toString()));
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sock = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  const json = '{"Detach":false,"Tty":true}';
  const headers = `POST /exec/x/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
  const upgraded = new Promise<void>((r) => {
    let got = '';
    sock.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\r\n\r\n')) r();
    });
  });
  if (splitBody) {
    // Go's client flushes the headers before a body that is not an in-memory reader.
    sock.write(headers);
    await new Promise((r) => setTimeout(r, 100));
    sock.write(json);
  } else {
    sock.write(headers + json);
  }
  await upgraded;
  sock.write('typed\r');
  const deadline = Date.now() + 2000;
  while (!seen.includes('typed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  sock.destroy();
  return { body, input: seen };
}

describe('upgraded requests with a body (exec start)', () => {
  it('reads a body sent with the headers and then streams the input', async () => {
    expect(await upgradeThenType(false)).toEqual({ body: '{"Detach":false,"Tty":true}', input: 'typed\r' });
  });

  it('reads a body that arrives after the headers and still streams the input (the socket is not left paused)', async () => {
    expect(await upgradeThenType(true)).toEqual({ body: '{"Detach":false,"Tty":true}', input: 'typed\r' });
  });
});
