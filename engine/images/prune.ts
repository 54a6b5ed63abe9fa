/**
 * `docker image prune` with moby's rules: by default only dangling images
 * (no tag) that nothing builds on; with dangling=false (`-a`) every image no
 * container uses. until/label/label! narrow the candidates; images in use are
 * skipped silently (their delete conflicts), and the reclaimed space is the
 * size of the layers that went away.
 */
import { ConflictError, InvalidParameterError } from '../errdefs.js';
import type { Filters } from '../api/filters.js';
import { parseTimestamp } from '../api/filters.js';
import type { ImageDeleteItem } from '../api/types.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../daemon/log.js';
import type { ImageStore } from './store.js';
import type { ImageDeleter } from './delete.js';

export interface PruneReport {
  ImagesDeleted: ImageDeleteItem[];
  SpaceReclaimed: number;
}

/** Stores with a prune in progress (moby allows one at a time). */
const pruning = new WeakSet<ImageStore>();

export async function pruneImages(d: { images: ImageStore; imageDeleter: ImageDeleter; events: EventBus; log: Logger }, f: Filters): Promise<PruneReport> {
  const store = d.images;
  const danglingOnly = f.bool('dangling') ?? true;
  const untilValues = f.get('until');
  if (untilValues.length > 1) throw new InvalidParameterError('more than one until filter specified');
  let until: number | undefined;
  if (untilValues.length === 1) {
    try {
      until = parseTimestamp(untilValues[0]!);
    } catch (err) {
      throw new InvalidParameterError(`invalid value for 'until' filter: ${(err as Error).message}`);
    }
  }
  if (pruning.has(store)) throw new ConflictError('a prune operation is already running');
  pruning.add(store);
  try {
    const layerSizes = new Map(store.layers.all().map((l) => [l.chainID, l.size]));
    const candidates = store.all().filter((img) => {
      if (danglingOnly && store.children(img.id).length > 0) return false;
      if (store.references(img.id).length === 0 && store.children(img.id).length > 0) return false;
      if (until !== undefined) {
        const created = img.config.created ? Date.parse(img.config.created) : NaN;
        if (Number.isNaN(created) || created > until) return false;
      }
      const labels = img.config.config?.Labels ?? {};
      if (!f.matchLabels('label', labels)) return false;
      // An image is kept when it matches every label! filter (moby's MatchKVList).
      if (f.has('label!') && f.matchLabels('label!', labels)) return false;
      return true;
    });
    const report: PruneReport = { ImagesDeleted: [], SpaceReclaimed: 0 };
    for (const img of candidates) {
      if (!store.get(img.id)) continue; // removed as a parent of an earlier one
      const refs = store.references(img.id);
      const names: string[] = [];
      if (refs.length > 0) {
        // dangling-only prune still removes images that have only digest references.
        if (danglingOnly && refs.some((r) => r.tag !== undefined)) continue;
        names.push(...refs.map((r) => r.toString()));
      } else {
        names.push(img.id.slice('sha256:'.length));
      }
      for (const name of names) {
        try {
          report.ImagesDeleted.push(...(await d.imageDeleter.delete(name, false, true)));
        } catch (err) {
          if (!(err instanceof ConflictError)) d.log.warn('failed to prune image', { image: name, err: (err as Error).message });
        }
      }
    }
    for (const item of report.ImagesDeleted) if (item.Deleted) report.SpaceReclaimed += layerSizes.get(item.Deleted) ?? 0;
    d.events.publish('image', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
    return report;
  } finally {
    pruning.delete(store);
  }
}
