import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../channel/protocol.js';
import { MAX_REPLAY, replayChanges, replayTargets } from '../guest/fs-events.js';
import type { AgentChannel } from './agent-channel.js';
import { FolderEvents } from './folder-events.js';

/** A guest agent fake that lists one bind source and records (and, like the guest, applies) replays. */
function fakeChannel(binds: string[], shares: string[]) {
  const replays: string[][] = [];
  const ch = {
    request: async (route: string, o: { body?: string } = {}) => {
      if (route === ROUTES.binds) return { status: 200, headers: {}, body: JSON.stringify({ shares, binds }) };
      if (route === ROUTES.fsEvents) {
        const { paths } = JSON.parse(o.body ?? '{}') as { paths: string[] };
        replays.push(paths);
        // What the guest does on the same files (through 9p it is the host's file): re-set times.
        await replayChanges(paths, shares);
        return { status: 200, headers: {}, body: '{"touched":1}' };
      }
      return { status: 404, headers: {}, body: '' };
    },
  } as unknown as AgentChannel;
  return { ch, replays };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('FolderEvents (host edits replayed in the guest)', () => {
  it('a host edit under a bound folder is sent once; the guest touch does not echo back', async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'folder-events-')));
    dirs.push(root);
    fs.mkdirSync(path.join(root, 'proj', 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'proj', 'src', 'app.js'), 'v1');
    const { ch, replays } = fakeChannel([path.join(root, 'proj')], [root]);
    const fe = new FolderEvents(() => ch, () => undefined, { refreshMs: 100_000, batchMs: 20 });
    fe.start();
    await expect.poll(() => fe.stats.watched).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    fs.writeFileSync(path.join(root, 'proj', 'src', 'app.js'), 'v2 longer');
    await expect.poll(() => replays.flat(), { timeout: 5000 }).toContain(path.join(root, 'proj', 'src', 'app.js'));
    const sent = replays.flat().length;
    // The replay's own setattr (ctime only) comes back as an event: nothing new is sent.
    await new Promise((r) => setTimeout(r, 500));
    expect(replays.flat().length).toBe(sent);
    fe.stop();
    expect(fe.stats.watched).toBe(0);
  });

  it('asks with a long poll: no requests while the list stays, the new list watched when the guest answers', async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'folder-events-')));
    dirs.push(root);
    for (const d of ['a', 'b']) fs.mkdirSync(path.join(root, d));
    const asked: string[] = [];
    let version = 1;
    let binds = [path.join(root, 'a')];
    let answer: (() => void) | undefined;
    const ch = {
      request: (route: string) => {
        asked.push(route);
        const after = new URL(route, 'http://g').searchParams.get('after');
        const body = () => ({ status: 200, headers: {}, body: JSON.stringify({ shares: [root], binds, version }) });
        if (after === null || Number(after) !== version) return Promise.resolve(body());
        return new Promise((resolve) => (answer = () => resolve(body())));
      },
    } as unknown as AgentChannel;
    const fe = new FolderEvents(() => ch, () => undefined, { refreshMs: 50, longPollMs: 60_000 });
    fe.start();
    await expect.poll(() => fe.stats.watched).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    // The first request, then one that waits in the guest: nothing more in 300 ms (a 2 s poll before).
    expect(asked).toEqual(['/v1/binds', '/v1/binds?after=1&waitMs=60000']);
    version = 2;
    binds = [path.join(root, 'a'), path.join(root, 'b')];
    answer!();
    await expect.poll(() => fe.stats.watched).toBe(2);
    await expect.poll(() => asked.at(-1)).toBe('/v1/binds?after=2&waitMs=60000');
    fe.stop();
  });

  it('an older guest that answers at once without a version is asked every refreshMs, not in a loop', async () => {
    let n = 0;
    const ch = { request: async () => (n++, { status: 200, headers: {}, body: '{"shares":[],"binds":[]}' }) } as unknown as AgentChannel;
    const fe = new FolderEvents(() => ch, () => undefined, { refreshMs: 100 });
    fe.start();
    await new Promise((r) => setTimeout(r, 350));
    fe.stop();
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThanOrEqual(5);
  });

  it('the guest side touches the file, or its folder when the file is gone, and keeps times and mode', async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'fs-events-')));
    dirs.push(root);
    const f = path.join(root, 'a.txt');
    fs.writeFileSync(f, 'x');
    const t = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(f, t, t);
    expect(await replayChanges([f, path.join(root, 'gone.txt'), '/etc/passwd', 'relative'], [root])).toBe(2);
    expect(fs.statSync(f).mtime.toISOString()).toBe(t.toISOString());
    fs.chmodSync(f, 0o640);
    await replayChanges([f], [root]);
    expect(fs.statSync(f).mode & 0o7777).toBe(0o640);
    await expect(replayChanges('x', [root])).rejects.toThrow(/paths must be a list/);
  });

  it('a big batch (an untar on the host) becomes touches of its folders, at most MAX_REPLAY', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `/s/d${i % 100}/f${i}`);
    const t = replayTargets(many, ['/s']);
    expect(t).toHaveLength(100);
    expect(t[0]).toBe('/s/d0');
    expect(replayTargets(['/s/a', '/s/a', '/x/b'], ['/s'])).toEqual(['/s/a']);
    expect(MAX_REPLAY).toBeGreaterThanOrEqual(100);
  });
});
