/**
 * The HTTP side of `docker save` and `docker load`: names are resolved and
 * archives read before a response starts, so bad input is a normal 4xx; once
 * output has begun, failures are reported the way dockerd does (a torn tar
 * stream for save, an in-band errorDetail line for load).
 */
import type { ServerResponse } from 'node:http';
import { beginStream, writeJsonLine, type RequestContext } from '../api/context.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../daemon/log.js';
import { messageOf, NotFoundError } from '../errdefs.js';
import type { ImageStore } from './store.js';
import { resolveSaveNames, writeSaveArchive } from './save.js';
import { loadArchive, type LoadOutput } from './load.js';
import { hasLayerArchive } from './layer-export.js';

export interface ArchiveDeps {
  images: ImageStore;
  events: EventBus;
  log: Logger;
}

export async function serveSave(d: ArchiveDeps, ctx: RequestContext, names: string[]): Promise<void> {
  const entries = resolveSaveNames(d.images, names);
  // A layer we cannot export is an error response, not a torn archive.
  for (const e of entries) {
    for (const diffID of e.image.config.rootfs.diff_ids) {
      if (!(await hasLayerArchive(d.images, diffID))) throw new NotFoundError(`cannot save image ${e.image.id}: the archive of its layer ${diffID} is not stored`);
    }
  }
  const res = beginStream(ctx, 'application/x-tar');
  try {
    await writeSaveArchive(d.images, entries, res);
  } catch (err) {
    d.log.warn('docker save failed after the archive began', { err: messageOf(err) });
    // The client sees a truncated archive and reports it.
    res.destroy();
    return;
  }
  for (const e of entries) d.events.publish('image', 'save', e.image.id, { name: e.image.id });
}

/** 1.2MB-style sizes for progress bars, like Docker's units.HumanSize. */
function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 3 : v < 100 ? 2 : 1).replace(/\.?0+$/, '')}${units[i]}`;
}

function progressBar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.floor((width * current) / total) : width;
  const bar = filled >= width ? '='.repeat(width) : '='.repeat(filled) + '>' + ' '.repeat(width - filled - 1);
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

export async function serveLoad(d: ArchiveDeps, ctx: RequestContext, quiet: boolean): Promise<void> {
  let res: ServerResponse | undefined;
  const out = () => (res ??= beginStream(ctx, 'application/json'));
  const output: LoadOutput = {
    stream: (text) => writeJsonLine(out(), { stream: text }),
    progress: (id, status, current, total) => {
      if (!quiet) writeJsonLine(out(), { status, progressDetail: { current, total }, progress: progressBar(current, total), id });
    },
  };
  try {
    await loadArchive(d.images, ctx.req, d.images.blobs.tempPath('load'), output, (img) => d.events.publish('image', 'load', img.id, { name: img.id }));
  } catch (err) {
    // Before any output this is an ordinary error response.
    if (!res) throw err;
    const message = messageOf(err);
    writeJsonLine(res, { errorDetail: { message }, error: message });
  }
  out().end();
}
