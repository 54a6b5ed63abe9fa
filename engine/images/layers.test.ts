import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { Logger } from '../daemon/log.js';
import { LayerStore, chainIDOf } from './layers.js';

async function layer(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  for (const [name, body] of Object.entries(files)) pack.entry({ name }, body);
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-layers-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const quiet = new Logger('error', {}, () => undefined);

describe('LayerStore', () => {
  it('publishes a layer once when it is registered concurrently', async () => {
    const store = new LayerStore(path.join(root, 'a'), quiet);
    await store.init();
    const tarball = await layer(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, String(i)])));
    const results = await Promise.all([1, 2, 3, 4].map(() => store.register(null, Readable.from([tarball]))));
    expect(new Set(results.map((r) => r.chainID)).size).toBe(1);
    expect(fs.readdirSync(path.join(root, 'a', 'layers'))).toHaveLength(1);
    expect(fs.readdirSync(path.join(root, 'a', 'tmp'))).toEqual([]);
    // A register racing a remove of the same layer ends with the layer present.
    const [, again] = await Promise.all([store.remove(results[0]!.chainID), store.register(null, Readable.from([tarball]))]);
    expect(store.has(again.chainID)).toBe(true);
    expect(fs.existsSync(store.diffPath(again.chainID))).toBe(true);
  });

  it('a tar that fails before it is read (while the layer folder is made) fails the registration, not hangs it', async () => {
    const store = new LayerStore(path.join(root, 'early-error'), quiet);
    await store.init();
    const tarball = await layer({ a: 'x' });
    const input = new PassThrough();
    input.write(tarball.subarray(0, 512));
    const registering = store.register(null, input);
    // As a pull's layer stream does when its blob fails verification: destroyed before register reads it.
    input.destroy(new Error('filesystem layer verification failed for digest sha256:00'));
    const outcome = await Promise.race([registering.then(() => 'registered', (e: Error) => e.message), new Promise((r) => setTimeout(() => r('hung'), 3000))]);
    expect(outcome).toBe('filesystem layer verification failed for digest sha256:00');
    expect(fs.readdirSync(path.join(root, 'early-error', 'tmp'))).toEqual([]);
  });

  it('checks the DiffID and chains layers on their parent', async () => {
    const store = new LayerStore(path.join(root, 'b'), quiet);
    await store.init();
    const bottom = await store.register(null, Readable.from([await layer({ a: '1' })]));
    await expect(store.register(bottom.chainID, Readable.from([await layer({ b: '2' })]), `sha256:${'0'.repeat(64)}`)).rejects.toThrow('layer content does not match its DiffID');
    const top = await store.register(bottom.chainID, Readable.from([await layer({ b: '2' })]));
    expect(top.chainID).toBe(chainIDOf(bottom.chainID, top.diffID));
    expect(store.chain(top.chainID).map((l) => l.chainID)).toEqual([bottom.chainID, top.chainID]);
    expect(fs.readdirSync(path.join(root, 'b', 'tmp'))).toEqual([]);
    // State survives a restart.
    const reopened = new LayerStore(path.join(root, 'b'), quiet);
    await reopened.init();
    expect(reopened.lowerDirs(top.chainID)).toHaveLength(2);
  });
});
