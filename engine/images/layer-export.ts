/**
 * The uncompressed tar of a stored layer, for `docker save`: layer contents
 * are kept unpacked, so the archive comes from the layer's stored blob — the
 * plain tar when we have it (its digest is the DiffID), otherwise a gzip or
 * zstd blob (pulled layers) decompressed into a temp file and checked against
 * the DiffID before it is used.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errdefs.js';
import type { ImageStore } from './store.js';
import { decompress } from './compression.js';

export interface LayerTar {
  file: string;
  size: number;
  /** Removes the temp file, if one was made. */
  release(): Promise<void>;
}

/** True when a layer's archive is stored in some form (checked before a save starts streaming). */
export async function hasLayerArchive(store: ImageStore, diffID: string): Promise<boolean> {
  if (store.blobs.has(diffID)) return true;
  return (await store.layerBlobs(diffID)).some((d) => store.blobs.has(d.digest));
}

export async function openLayerTar(store: ImageStore, diffID: string): Promise<LayerTar> {
  const blobs = store.blobs;
  const plain = await blobs.stat(diffID);
  if (plain) return { file: blobs.path(diffID), size: plain.size, release: async () => undefined };
  const failures: string[] = [];
  for (const desc of await store.layerBlobs(diffID)) {
    if (desc.digest === diffID || !blobs.has(desc.digest)) continue;
    const tmp = blobs.tempPath('layer-export');
    try {
      const { stream } = await decompress(blobs.createReadStream(desc.digest));
      const hash = createHash('sha256');
      let size = 0;
      const hasher = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      await pipeline(stream, hasher, fs.createWriteStream(tmp, { mode: 0o600 }));
      const got = 'sha256:' + hash.digest('hex');
      if (got !== diffID) throw new Error(`decompressed content is ${got}`);
      return { file: tmp, size, release: () => fsp.rm(tmp, { force: true }) };
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      failures.push(`${desc.digest}: ${(err as Error).message}`);
    }
  }
  const why = failures.length > 0 ? ` (${failures.join('; ')})` : '';
  throw new NotFoundError(`layer ${diffID} cannot be exported: no stored archive of it${why}`);
}
