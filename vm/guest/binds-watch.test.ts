import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIND_EVENTS, BindsWatch, subscribeEngineEvents, type Subscribe } from './binds-watch.js';
import { bindSources } from './fs-events.js';

/** A fake of berthd's event stream: the test opens, feeds and ends it. */
function fakeEvents() {
  let h: Parameters<Subscribe>[0] | undefined;
  let subscriptions = 0;
  const subscribe: Subscribe = (handlers) => {
    subscriptions++;
    h = handlers;
    return { close: () => (h = undefined) };
  };
  return { subscribe, open: () => h?.onOpen(), event: () => h?.onEvent(), end: () => h?.onEnd(), count: () => subscriptions };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('BindsWatch (the bind sources the host watches, from berthd events)', () => {
  it('answers a long poll when the list changes, lists once per burst of events, and not while nothing happens', async () => {
    let listed = 0;
    let now = ['/home/a/proj'];
    const ev = fakeEvents();
    const w = new BindsWatch({ list: async () => (listed++, now), subscribe: ev.subscribe, debounceMs: 20 });
    cleanups.push(() => w.stop());
    w.start();
    ev.open();
    await expect.poll(() => w.current.version).toBe(1);
    expect(w.current.binds).toEqual(['/home/a/proj']);
    // The host's first request (no version) is answered at once; a stale version too.
    expect((await w.wait(undefined, 5000)).version).toBe(1);
    expect((await w.wait(0, 5000)).version).toBe(1);

    // Nothing happens: the poll waits its time out and nothing is listed meanwhile.
    const t0 = Date.now();
    const same = await w.wait(1, 150);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(same).toEqual({ version: 1, binds: ['/home/a/proj'] });
    expect(listed).toBe(1);

    // A compose up: three starts in a row become one listing and one answer.
    const waiting = w.wait(1, 5000);
    now = ['/home/a/proj', '/home/a/web'];
    ev.event();
    ev.event();
    ev.event();
    const changed = await waiting;
    expect(changed).toEqual({ version: 2, binds: ['/home/a/proj', '/home/a/web'] });
    expect(listed).toBe(2);

    // An event that changes nothing (a container without binds died) wakes nobody.
    const quiet = w.wait(2, 200);
    ev.event();
    expect((await quiet).version).toBe(2);
    expect(listed).toBe(3);
  });

  it('keeps the last list when berthd does not answer, and lists again when its stream comes back', async () => {
    let fail = false;
    const ev = fakeEvents();
    const logs: string[] = [];
    const w = new BindsWatch({
      list: async () => {
        if (fail) throw new Error('connect ENOENT /run/berth/docker.sock');
        return ['/x'];
      },
      subscribe: ev.subscribe,
      log: (m) => logs.push(m),
      retryMs: 30,
    });
    cleanups.push(() => w.stop());
    w.start();
    ev.open();
    await expect.poll(() => w.current.version).toBe(1);
    fail = true;
    ev.end();
    await expect.poll(() => logs.length).toBeGreaterThan(0);
    expect(w.current).toEqual({ version: 1, binds: ['/x'] });
    expect(logs[0]).toMatch(/ENOENT/);
    // Subscribed again after retryMs (berthd restarted).
    await expect.poll(() => ev.count()).toBe(2);
    fail = false;
    ev.open();
    await new Promise((r) => setTimeout(r, 50));
    expect(w.current.version).toBe(1);
  });

  it('a stopped watch answers waiting polls and does not subscribe again', async () => {
    const ev = fakeEvents();
    const w = new BindsWatch({ list: async () => [], subscribe: ev.subscribe, retryMs: 10 });
    w.start();
    ev.open();
    await expect.poll(() => w.current.version).toBe(1);
    const waiting = w.wait(1, 10_000);
    w.stop();
    expect((await waiting).version).toBe(1);
    ev.end();
    await new Promise((r) => setTimeout(r, 40));
    expect(ev.count()).toBe(1);
  });
});

describe('subscribeEngineEvents and bindSources over a unix socket (berthd\'s API shape)', () => {
  it('asks for the container events that change what runs, and reports each line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'binds-'));
    const sock = path.join(dir, 'd.sock');
    let eventsUrl = '';
    let res: http.ServerResponse | undefined;
    const server = http.createServer((req, r) => {
      if (req.url?.startsWith('/events')) {
        eventsUrl = req.url;
        res = r;
        r.writeHead(200, { 'content-type': 'application/json' });
        r.flushHeaders();
        return;
      }
      if (req.url === '/containers/json') {
        r.end(JSON.stringify([{ Mounts: [{ Type: 'bind', Source: '/home/a/p' }, { Type: 'bind', Source: '/etc/x' }, { Type: 'volume', Source: '/home/a/v' }] }, { Mounts: [{ Type: 'bind', Source: '/home/a/p' }] }]));
        return;
      }
      r.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(sock, r));
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    let opened = 0;
    let events = 0;
    let ended = 0;
    const sub = subscribeEngineEvents({ onOpen: () => opened++, onEvent: () => events++, onEnd: () => ended++ }, sock);
    await expect.poll(() => opened).toBe(1);
    const q = new URL(eventsUrl, 'http://d').searchParams.get('filters');
    expect(JSON.parse(q!)).toEqual({ type: ['container'], event: [...BIND_EVENTS] });
    res!.write('{"Type":"container","Action":"start"}\n');
    await expect.poll(() => events).toBe(1);
    res!.end();
    await expect.poll(() => ended).toBe(1);
    sub.close();

    expect(await bindSources(['/home/a'], sock)).toEqual(['/home/a/p']);
    await expect(bindSources(['/home/a'], path.join(dir, 'none.sock'))).rejects.toThrow(/ENOENT/);
  });
});
