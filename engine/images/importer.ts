/**
 * `docker import`: a root filesystem tarball (plain or compressed) becomes a
 * one-layer image, with `--change` instructions applied to its config.
 */
import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ImageStore, Image } from './store.js';
import { decompress } from './compression.js';
import { applyChanges } from './dockerfile.js';
import { hostPlatform, MediaTypes, type ImageConfig } from './oci.js';

export interface ImportOptions {
  changes: string[];
  message: string;
  platform?: { os: string; architecture: string; variant?: string };
}

export async function importRootfs(store: ImageStore, input: Readable, opts: ImportOptions): Promise<Image> {
  // Validate changes before reading a byte of the upload.
  const runConfig = applyChanges({}, opts.changes);
  const { stream } = await decompress(input);
  const toLayer = new PassThrough({ highWaterMark: 1024 * 1024 });
  const toBlob = new PassThrough({ highWaterMark: 1024 * 1024 });
  const writer = store.blobs.writer();
  const blobDone = pipeline(toBlob, writer.stream).then(
    () => undefined,
    (err: unknown) => err,
  );
  // Tee the uncompressed tar: unpacked as a layer and kept as the layer's blob (for save/push).
  const feeding = pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        const a = toLayer.write(chunk);
        const b = toBlob.write(chunk);
        if (a && b) cb();
        else {
          let pending = (a ? 0 : 1) + (b ? 0 : 1);
          const done = () => {
            if (--pending === 0) cb();
          };
          if (!a) toLayer.once('drain', done);
          if (!b) toBlob.once('drain', done);
        }
      },
      final(cb) {
        toLayer.end();
        toBlob.end();
        cb();
      },
    }),
  );
  let layer;
  try {
    const results = await Promise.all([store.layers.register(null, toLayer), feeding]);
    layer = results[0];
    const blobErr = await blobDone;
    if (blobErr) throw blobErr;
  } catch (err) {
    // With the error, so the unpacking side fails too and removes its temp dir.
    toLayer.destroy(err as Error);
    toBlob.destroy(err as Error);
    await writer.abort();
    throw err;
  }
  // Nothing may collect the new layer before the image that uses it exists.
  const release = store.holdLayers([layer.chainID]);
  try {
    const blob = await writer.commit(layer.diffID);
    await store.addLayerBlob(layer.diffID, { mediaType: MediaTypes.dockerLayer, digest: blob.digest, size: blob.size });
    return await store.create(Buffer.from(JSON.stringify(importConfig(layer.diffID, runConfig, opts))));
  } finally {
    release();
    // Gone again if the image could not be created.
    await store.discardLayers([layer.chainID]);
  }
}

function importConfig(diffID: string, runConfig: ImageConfig['config'], opts: ImportOptions): ImageConfig {
  const platform = opts.platform ?? hostPlatform();
  const created = new Date().toISOString();
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created,
    ...(runConfig ? { config: runConfig } : {}),
    rootfs: { type: 'layers', diff_ids: [diffID] },
    history: [{ created, created_by: '', comment: opts.message || 'Imported from -' }],
  };
  return config;
}
