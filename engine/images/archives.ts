/**
 * `docker save` and `docker load` behind the API: names are resolved and layers checked
 * before any output (so bad input is an ordinary 4xx) and a failure once the tar has begun
 * tears the stream. Load answers as dockerd does: always 200, a failure as an in-band
 * errorDetail line.
 */
import type { Readable, Writable } from 'node:stream';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../daemon/log.js';
import { messageOf, NotFoundError } from '../errdefs.js';
import { progressBar, type JsonLineOutput } from '../progress/jsonmessage.js';
import type { ImageStore } from './store.js';
import { resolveSaveNames, writeSaveArchive } from './save.js';
import { loadArchive, type LoadOutput } from './load.js';
import { hasLayerArchive } from './layer-export.js';

export interface ArchiveDeps {
  images: ImageStore;
  events: EventBus;
  log: Logger;
}

/** Writes the archive of `names` to the output `open` returns once every name resolved and every layer is exportable. */
export async function saveImages(d: ArchiveDeps, names: string[], open: () => Writable): Promise<void> {
  const entries = resolveSaveNames(d.images, names);
  // A layer we cannot export is an error response, not a torn archive.
  for (const e of entries) {
    for (const diffID of e.image.config.rootfs.diff_ids) {
      if (!(await hasLayerArchive(d.images, diffID))) throw new NotFoundError(`cannot save image ${e.image.id}: the archive of its layer ${diffID} is not stored`);
    }
  }
  const out = open();
  try {
    await writeSaveArchive(d.images, entries, out);
  } catch (err) {
    d.log.warn('docker save failed after the archive began', { err: messageOf(err) });
    // The client sees a truncated archive and reports it.
    out.destroy();
    return;
  }
  for (const e of entries) d.events.publish('image', 'save', e.image.id, { name: e.image.id });
}

/** Loads an archive from `input`, reporting to `out`; a failure is reported in `out`, even before any output. */
export async function loadImages(d: ArchiveDeps, input: Readable, quiet: boolean, out: JsonLineOutput): Promise<void> {
  const line = (obj: unknown) => out.write(JSON.stringify(obj) + '\n');
  const output: LoadOutput = {
    stream: (text) => line({ stream: text }),
    progress: (id, status, current, total) => {
      if (!quiet) line({ status, progressDetail: { current, total }, progress: progressBar(current, total), id });
    },
  };
  try {
    await loadArchive(d.images, input, d.images.blobs.tempPath('load'), output, (img) => d.events.publish('image', 'load', img.id, { name: img.id }));
  } catch (err) {
    // dockerd answers 200 and reports a failed load in the stream even before any output
    // (docker-py raises ImageLoadError from the `error` line, the CLI prints it and exits 1).
    const message = messageOf(err);
    d.log.debug('docker load failed', { err: message });
    line({ errorDetail: { message }, error: message });
  }
  out.end();
}
