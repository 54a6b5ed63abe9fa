/**
 * The container store owns each container's directory: a record write in flight when the
 * container is removed finishes first (or never starts), so no temp file is renamed into a
 * directory that was moved away (the "ENOENT rename config.v2.json" an exit racing `rm -f` gave).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Container, type ContainerRecord } from './container.js';
import { ContainerStore } from './store.js';
import { silentLog } from './testing/fakes.js';

/** Holds every record write between its temp file and its rename until the test opens it. */
const gate = vi.hoisted(() => ({ hold: undefined as Promise<void> | undefined, started: 0 }));
vi.mock('../storage/atomic.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../storage/atomic.js')>();
  return {
    ...real,
    writeJsonAtomic: async (file: string, value: unknown) => {
      gate.started++;
      const tmp = path.join(path.dirname(file), `.${path.basename(file)}.held.tmp`);
      await fs.promises.writeFile(tmp, JSON.stringify(value));
      if (gate.hold) await gate.hold;
      await fs.promises.rename(tmp, file);
    },
  };
});

let root: string;
let store: ContainerStore;

function container(id: string): Container {
  const record = { id, name: `c-${id.slice(0, 6)}` } as unknown as ContainerRecord;
  return new Container(record);
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-store-'));
  store = new ContainerStore(root, silentLog);
  gate.hold = undefined;
  gate.started = 0;
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('ContainerStore writes and removal', () => {
  it('a removal waits for the record write in flight; writes after it are skipped', async () => {
    const c = container('a'.repeat(64));
    store.add(c);
    fs.mkdirSync(store.dir(c.id));
    await store.save(c);
    let open!: () => void;
    gate.hold = new Promise((r) => (open = r));
    const saving = store.save(c);
    await vi.waitFor(() => expect(gate.started).toBe(2));
    const removing = store.remove(c);
    // The directory stays until the write finished.
    await new Promise((r) => setTimeout(r, 30));
    expect(fs.existsSync(store.dir(c.id))).toBe(true);
    expect(store.find(c.id)).toBeUndefined();
    open();
    await expect(saving).resolves.toBeUndefined();
    await removing;
    expect(fs.existsSync(store.dir(c.id))).toBe(false);
    // A late write (an exit handler, a network hook) does nothing: no directory comes back.
    gate.hold = undefined;
    await store.save(c);
    expect(gate.started).toBe(2);
    expect(fs.readdirSync(root).filter((n) => !n.startsWith('.trash-'))).toEqual([]);
  });

});
