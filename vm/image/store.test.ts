import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ImageStore } from './store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function storeWith(entries: Array<{ name: string; ageMs: number }>): ImageStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-image-store-'));
  dirs.push(dir);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    fs.mkdirSync(p);
    fs.writeFileSync(path.join(p, 'manifest.json'), '{}');
    const t = new Date(Date.now() - e.ageMs);
    fs.utimesSync(p, t, t);
  }
  return new ImageStore(dir);
}

const DAY = 24 * 3600_000;
const current = { arch: 'amd64' as const, base: 'b2', payload: 'p2' };

describe('ImageStore.prune', () => {
  it('removes every entry the current images do not use, and stale temporary folders', () => {
    const s = storeWith([
      { name: 'base-amd64-b1', ageMs: 0 },
      { name: 'base-amd64-b2', ageMs: 0 },
      { name: 'payload-amd64-p1', ageMs: 0 },
      { name: 'payload-amd64-p2', ageMs: 0 },
      { name: '.base-amd64-tmp1', ageMs: 7 * 3600_000 },
      { name: '.base-amd64-tmp2', ageMs: 0 },
    ]);
    expect(s.prune([current]).sort()).toEqual(['.base-amd64-tmp1', 'base-amd64-b1', 'payload-amd64-p1']);
    expect(fs.readdirSync(s.dir).sort()).toEqual(['.base-amd64-tmp2', 'base-amd64-b2', 'payload-amd64-p2']);
  });

  it('with unusedForMs keeps what was used (touched) recently, even when another build is current', () => {
    const s = storeWith([
      { name: 'base-amd64-b1', ageMs: 2 * DAY },
      { name: 'base-amd64-b2', ageMs: 3 * DAY },
      { name: 'base-arm64-b9', ageMs: 2 * DAY },
      { name: 'payload-amd64-p1', ageMs: 2 * DAY },
      { name: 'payload-amd64-p2', ageMs: 2 * DAY },
      { name: 'payload-amd64-p3', ageMs: 3600_000 },
    ]);
    s.touch('base', 'amd64', 'b1');
    expect(s.prune([current], { unusedForMs: DAY }).sort()).toEqual(['base-arm64-b9', 'payload-amd64-p1']);
    // The current ones stay however old; b1 was just used; p3 by a run an hour ago.
    expect(fs.readdirSync(s.dir).sort()).toEqual(['base-amd64-b1', 'base-amd64-b2', 'payload-amd64-p2', 'payload-amd64-p3']);
  });
});
