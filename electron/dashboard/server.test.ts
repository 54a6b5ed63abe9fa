import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DashboardServer } from './server.js';
import type { Handlers } from '../backend/rpc/session.js';

let dir: string;
let server: DashboardServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-dash-'));
  fs.mkdirSync(path.join(dir, 'renderer', 'assets'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'renderer', 'index.html'), '<!doctype html><title>Berth</title>');
  fs.writeFileSync(path.join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  const handlers = { methods: { 'engines.list': () => ({ engines: [], activeId: null }) }, streams: {} } as unknown as Handlers;
  server = new DashboardServer({ handlers, rendererDir: path.join(dir, 'renderer'), token: 'T'.repeat(32) });
  await server.listen();
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const origin = () => `http://127.0.0.1:${server.port}`;

function connect(url: string, headers: Record<string, string>): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('unexpected-response', (_q, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.on('error', () => resolve({ status: -1 }));
  });
}

describe('berth dashboard server', () => {
  it('prints a 127.0.0.1 URL with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${'T'.repeat(32)}`);
  });

  it('serves the app with a CSP, falls back to index.html for routes, and never leaves the renderer folder', async () => {
    const index = await fetch(`${origin()}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect((await fetch(`${origin()}/assets/app.js`)).headers.get('content-type')).toContain('javascript');
    expect(await (await fetch(`${origin()}/containers/x`)).text()).toContain('<title>Berth</title>');
    expect((await fetch(`${origin()}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${origin()}/..%2fsecret.txt`)).status).toBe(404);
    expect((await fetch(`${origin()}/x`, { method: 'POST' })).status).toBe(405);
  });

  it('speaks the contract over the WebSocket for the right token and origin only', async () => {
    const ok = await connect(`ws://127.0.0.1:${server.port}/rpc?token=${'T'.repeat(32)}`, { Origin: origin() });
    expect(ok.status).toBe(101);
    const reply = new Promise<unknown>((r) => ok.ws!.once('message', (d) => r(JSON.parse(String(d)))));
    ok.ws!.send(JSON.stringify({ kind: 'call', id: 1, method: 'engines.list', params: {} }));
    expect(await reply).toEqual({ kind: 'result', id: 1, value: { engines: [], activeId: null } });
    expect(server.connections).toBe(1);
    ok.ws!.close();
    expect((await connect(`ws://127.0.0.1:${server.port}/rpc?token=${'T'.repeat(31)}`, { Origin: origin() })).status).toBe(401);
    expect((await connect(`ws://127.0.0.1:${server.port}/rpc?token=${'T'.repeat(32)}`, { Origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await connect(`ws://127.0.0.1:${server.port}/other?token=${'T'.repeat(32)}`, { Origin: origin() })).status).toBe(404);
  });
});
