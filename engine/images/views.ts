/**
 * Images in the API's shapes: list items (with `docker images` filters),
 * inspect and history.
 */
import { InvalidParameterError } from '../errdefs.js';
import type { Filters } from '../api/query.js';
import { parseTimestamp } from '../api/query.js';
import type { ImageHistoryItem, ImageInspect, ImageSummary } from '../api/types.js';
import type { ImageStore, Image } from './store.js';
import { parseReference } from './reference.js';

export const imageFilterKeys = ['dangling', 'label', 'before', 'since', 'reference', 'until'];

function createdSeconds(img: Image): number {
  const t = img.config.created ? Date.parse(img.config.created) : 0;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** Glob match of a familiar reference ("busybox", "foo/*:1.*") like Docker's path.Match. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  return re.test(value);
}

export class ImageViews {
  constructor(
    private readonly store: ImageStore,
    private readonly containerCount: (imageId: string) => number,
  ) {}

  summary(img: Image): ImageSummary {
    return {
      Id: img.id,
      ParentId: img.record.parent ?? '',
      RepoTags: this.store.repoTags(img.id),
      RepoDigests: this.store.repoDigests(img.id),
      Created: createdSeconds(img),
      Size: this.store.size(img),
      SharedSize: -1,
      Labels: img.config.config?.Labels ?? {},
      Containers: this.containerCount(img.id),
    };
  }

  list(filters: Filters, all: boolean): ImageSummary[] {
    const f = filters.validate(imageFilterKeys);
    const dangling = f.bool('dangling');
    const before = f.get('before').map((r) => createdSeconds(this.store.lookup(r)));
    const since = f.get('since').map((r) => createdSeconds(this.store.lookup(r)));
    const until = f.get('until').map((u) => Math.floor(parseTimestamp(u) / 1000));
    const refs = f.get('reference');
    const out: ImageSummary[] = [];
    const images = this.store.all();
    for (const img of images) {
      const tags = this.store.repoTags(img.id);
      const digests = this.store.repoDigests(img.id);
      const isDangling = tags.length === 0 && digests.length === 0;
      // Without -a, intermediate images (untagged parents of other images) are hidden.
      if (!all && isDangling && this.store.children(img.id).length > 0) continue;
      if (dangling === true && !isDangling) continue;
      if (dangling === false && isDangling) continue;
      if (!f.matchLabels('label', img.config.config?.Labels)) continue;
      const created = createdSeconds(img);
      if (before.length > 0 && !before.every((b) => created < b)) continue;
      if (since.length > 0 && !since.every((s) => created > s)) continue;
      if (until.length > 0 && !until.every((u) => created < u)) continue;
      let summary = this.summary(img);
      if (refs.length > 0) {
        const match = (r: string) =>
          refs.some((p) => {
            const name = r.replace(/[:@][^/]*$/, '');
            return globMatch(p, r) || globMatch(p, name) || (p.includes(':') ? false : globMatch(p, name));
          });
        const keptTags = tags.filter(match);
        const keptDigests = digests.filter(match);
        if (keptTags.length === 0 && keptDigests.length === 0) continue;
        summary = { ...summary, RepoTags: keptTags, RepoDigests: keptDigests };
      }
      out.push(summary);
    }
    return out.sort((a, b) => b.Created - a.Created || (a.Id < b.Id ? -1 : 1));
  }

  inspect(img: Image): ImageInspect {
    const c = img.config;
    return {
      Id: img.id,
      RepoTags: this.store.repoTags(img.id),
      RepoDigests: this.store.repoDigests(img.id),
      Parent: img.record.parent ?? '',
      Comment: c.comment ?? c.history?.[c.history.length - 1]?.comment ?? '',
      Created: c.created ?? '0001-01-01T00:00:00Z',
      DockerVersion: c.docker_version ?? '',
      Author: c.author ?? '',
      Config: c.config ?? {},
      Architecture: c.architecture,
      ...(c.variant ? { Variant: c.variant } : {}),
      Os: c.os,
      ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
      Size: this.store.size(img),
      GraphDriver: {
        Name: 'overlay2',
        Data: img.topLayer
          ? {
              MergedDir: '',
              UpperDir: this.store.layers.diffPath(img.topLayer),
              LowerDir: this.store.layers
                .chain(img.topLayer)
                .slice(0, -1)
                .reverse()
                .map((l) => this.store.layers.diffPath(l.chainID))
                .join(':'),
            }
          : null,
      },
      RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
      Metadata: { LastTagTime: img.record.lastTagTime },
    };
  }

  /** `docker history`: newest first; entries without their own image show "<missing>". */
  history(img: Image): ImageHistoryItem[] {
    const hist = img.config.history ?? [];
    const layers = img.topLayer ? this.store.layers.chain(img.topLayer) : [];
    const items: ImageHistoryItem[] = [];
    let layerIndex = 0;
    for (const h of hist) {
      let size = 0;
      if (!h.empty_layer) {
        size = layers[layerIndex]?.size ?? 0;
        layerIndex++;
      }
      const t = h.created ? Date.parse(h.created) : 0;
      items.push({ Id: '<missing>', Created: Number.isNaN(t) ? 0 : Math.floor(t / 1000), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
    }
    if (items.length === 0) {
      items.push({ Id: img.id, Created: createdSeconds(img), CreatedBy: '', Tags: null, Size: this.store.size(img), Comment: '' });
    }
    items.reverse();
    // Local parents (commit/build chains) name the history entries they produced.
    let cur: Image | undefined = img;
    let i = 0;
    while (cur && i < items.length) {
      items[i]!.Id = cur.id;
      const tags = this.store.repoTags(cur.id);
      items[i]!.Tags = tags.length > 0 ? tags : null;
      const ownEntries = (cur.config.history?.length ?? 1) - (cur.record.parent ? (this.store.get(cur.record.parent)?.config.history?.length ?? 0) : 0);
      i += Math.max(ownEntries, 1);
      cur = cur.record.parent ? this.store.get(cur.record.parent) : undefined;
    }
    return items;
  }

  /** Validates a `reference` filter value early (bad patterns are 400s). */
  static checkReference(v: string): void {
    try {
      parseReference(v.replace(/\*/g, 'x'));
    } catch {
      throw new InvalidParameterError(`invalid reference format: ${v}`);
    }
  }
}
