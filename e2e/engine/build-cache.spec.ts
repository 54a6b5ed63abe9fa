/**
 * The build cache as users manage it: `docker system df` (its Build Cache
 * line and -v entries), `docker builder prune` (dangling cache only, -a for
 * all, --filter, --keep-storage), `docker system prune`, POST /build/prune's
 * JSON — and what each does to the next build.
 */
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { rawApi } from '../support/registry.js';
import { cacheHits, contextDir } from './build-kit.js';

const df = (extra: string) => `FROM busybox\nRUN head -c 300000 /dev/urandom > /blob\nRUN echo ${extra} > /extra\nCMD ["cat", "/extra"]\n`;

async function buildCacheLine(d: Berthd): Promise<{ total: number; size: string }> {
  const out = await d.dockerOk(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Size}}']);
  const line = out.split('\n').find((l) => l.startsWith('Build Cache'))!;
  const [, total, size] = line.split('|');
  return { total: Number(total), size: size! };
}

test('docker system df, builder prune (dangling, --all, filters, keep-storage) and system prune', async ({ freshBerthd: d }) => {
  const tag = uniq('cached');
  const ctx = contextDir({ Dockerfile: df('one') });
  const build = async () => {
    const r = await d.docker(['build', '-t', tag, ctx.dir], { timeout: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    return cacheHits(r.stdout);
  };
  try {
    expect(await buildCacheLine(d)).toEqual({ total: 0, size: '0B' });
    await build();
    // The intermediate images of the build are its cache (the tagged result is an image).
    const afterOne = await buildCacheLine(d);
    expect(afterOne.total).toBe(2);
    const verbose = await d.dockerOk(['system', 'df', '-v']);
    expect(verbose).toContain('Build cache usage:');
    expect(verbose).toMatch(/regular\s+\|1 .*|regular/);
    const raw = await rawApi(d, 'GET', '/v1.51/system/df');
    const items = JSON.parse(raw.body.toString()).BuildCache as Array<Record<string, unknown>>;
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ Type: 'regular', InUse: false, Shared: true, UsageCount: 0 });
    expect(items.map((i) => i.Description)).toEqual(expect.arrayContaining(['/bin/sh -c head -c 300000 /dev/urandom > /blob']));

    // A changed Dockerfile leaves the old chain's tail as dangling cache.
    ctx.cleanup();
    Object.assign(ctx, contextDir({ Dockerfile: df('two') }));
    expect(await build()).toEqual([false, true, false, false]);
    const before = await buildCacheLine(d);
    expect(before.total).toBe(4);
    // Dangling only: what no tagged image builds on.
    const pruned = await d.dockerOk(['builder', 'prune', '-f']);
    // The old `RUN echo one` layer (4 bytes) and the old result, whose layer is that same one.
    expect(pruned).toMatch(/^Deleted build cache objects:\n[0-9a-f]{25}\n[0-9a-f]{25}\n\nTotal reclaimed space: 4B\n$/);
    expect((await buildCacheLine(d)).total).toBe(2);
    expect(await build()).toEqual([false, true, true, true]);

    // Filters and keep-storage: a recent cache survives until=1h, everything fits in 1 GB.
    const recent = await rawApi(d, 'POST', `/v1.47/build/prune?all=1&filters=${encodeURIComponent(JSON.stringify({ until: { '1h': true } }))}`);
    expect(JSON.parse(recent.body.toString())).toEqual({ CachesDeleted: null, SpaceReclaimed: 0 });
    const kept = await rawApi(d, 'POST', '/v1.47/build/prune?all=1&keep-storage=1000000000');
    expect(JSON.parse(kept.body.toString())).toEqual({ CachesDeleted: null, SpaceReclaimed: 0 });
    const bad = await rawApi(d, 'POST', `/v1.47/build/prune?filters=${encodeURIComponent(JSON.stringify({ color: ['blue'] }))}`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).message).toBe("invalid filter 'color'");
    const badSize = await rawApi(d, 'POST', '/v1.47/build/prune?keep-storage=lots');
    expect(badSize.status).toBe(400);

    // --all: the next build starts over; the image itself is untouched.
    const all = await rawApi(d, 'POST', '/v1.51/build/prune?all=1');
    const report = JSON.parse(all.body.toString()) as { CachesDeleted: string[]; SpaceReclaimed: number };
    expect(report.CachesDeleted).toHaveLength(2);
    expect(report.SpaceReclaimed).toBe(0);
    expect((await buildCacheLine(d)).total).toBe(0);
    expect(await d.dockerOk(['run', '--rm', tag])).toBe('two\n');
    expect(await build()).toEqual([false, false, false, false]);

    // system prune reports the build cache it reclaims; the old result (untagged now) was cache.
    await d.dockerOk(['rmi', tag]);
    const sys = await d.dockerOk(['system', 'prune', '-f']);
    expect(sys).toMatch(/Total reclaimed space: [\d.]+[kM]B/);
    expect((await buildCacheLine(d)).total).toBe(0);
    expect((await d.dockerOk(['images', '-aq'])).trim().split('\n').filter(Boolean)).toHaveLength(1);
  } finally {
    ctx.cleanup();
  }
});
