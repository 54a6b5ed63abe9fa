/**
 * Images in the API's shapes: list items (with `docker images` filters),
 * inspect and history.
 */
import { InvalidParameterError } from '../errdefs.js';
import type { Filters } from '../api/filters.js';
import { parseTimestamp } from '../api/filters.js';
import type { ImageHistoryItem, ImageInspect, ImageSummary } from '../api/types.js';
import type { ImageStore, Image } from './store.js';
import { parseReference } from './reference.js';
import { globMatch, globToRegExp } from './glob.js';

/**
 * Image-config fields dockerd shows in image inspect even when the image does not set them
 * (moby's legacyConfigFields): every container-config field below API 1.50, and at 1.50–1.51 the
 * ones that had no omitempty. docker-py reads `Config['OnBuild']` unguarded.
 */
const UNSET_CONFIG_BELOW_1_50: Record<string, unknown> = { AttachStderr: false, AttachStdin: false, AttachStdout: false, Cmd: null, Domainname: '', Entrypoint: null, Env: null, Hostname: '', Image: '', Labels: null, OnBuild: null, OpenStdin: false, StdinOnce: false, Tty: false, User: '', Volumes: null, WorkingDir: '' };
const UNSET_CONFIG_1_50: Record<string, unknown> = { Cmd: null, Entrypoint: null, Env: null, Labels: null, OnBuild: null, User: '', Volumes: null, WorkingDir: '' };

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** What dockerd 20.10 shows as ContainerConfig for an image no container made. */
function emptyContainerConfig(): Record<string, unknown> {
  return { Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null };
}

export const imageFilterKeys = ['dangling', 'label', 'before', 'since', 'reference', 'until'];

function createdSeconds(img: Image): number {
  const t = img.config.created ? Date.parse(img.config.created) : 0;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

/** Creation time in ms (undefined when the config has none), for before/since/until. */
function createdMs(img: Image): number | undefined {
  const t = img.config.created ? Date.parse(img.config.created) : NaN;
  return Number.isNaN(t) ? undefined : t;
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

  /** `docker images` with moby's filter rules (image_list.go). */
  list(filters: Filters, all: boolean): ImageSummary[] {
    const f = filters.validate(imageFilterKeys);
    const danglingOnly = f.bool('dangling') === true;
    // before/until: older than the oldest given; since: newer than the newest given.
    let before: number | undefined;
    for (const r of f.get('before')) {
      const t = createdMs(this.store.lookup(r));
      if (t !== undefined && (before === undefined || t < before)) before = t;
    }
    for (const u of f.get('until')) {
      let t: number;
      try {
        t = parseTimestamp(u);
      } catch (err) {
        throw new InvalidParameterError(`invalid value for 'until' filter: ${(err as Error).message}`);
      }
      if (before === undefined || t < before) before = t;
    }
    let since: number | undefined;
    for (const r of f.get('since')) {
      const t = createdMs(this.store.lookup(r));
      if (t !== undefined && (since === undefined || t > since)) since = t;
    }
    const patterns = f.get('reference').map((p) => {
      globToRegExp(p); // a malformed pattern is the client's error
      return p;
    });
    const out: ImageSummary[] = [];
    for (const img of this.store.all()) {
      const children = this.store.children(img.id).length;
      if (danglingOnly && children > 0) continue;
      const created = createdMs(img);
      if (before !== undefined && (created === undefined || !(created < before))) continue;
      if (since !== undefined && (created === undefined || !(created > since))) continue;
      if (f.has('label') && !f.matchLabels('label', img.config.config?.Labels)) continue;
      const refs = this.store.references(img.id).filter((ref) => {
        if (patterns.length === 0) return true;
        const targets = [ref.familiarString(), ref.familiarName, ref.tagged().toString(), ref.name];
        return patterns.some((p) => targets.some((t) => globMatch(p, t)));
      });
      const tags = refs.filter((r) => r.tag !== undefined).map((r) => r.familiarString());
      const digests = refs.filter((r) => r.digest !== undefined).map((r) => r.familiarString());
      if (tags.length === 0 && digests.length === 0) {
        // Untagged: intermediate images (with children) only with -a; never when filtering by name or dangling=false.
        if (!all && children > 0) continue;
        if (f.has('dangling') && !danglingOnly) continue;
        if (patterns.length > 0) continue;
      } else if (danglingOnly && tags.length > 0) continue;
      out.push({ ...this.summary(img), RepoTags: tags, RepoDigests: digests });
    }
    return out.sort((a, b) => b.Created - a.Created || (a.Id < b.Id ? -1 : 1));
  }

  /**
   * `docker image inspect`; `legacyFields` (clients below API 1.45) adds Container and
   * ContainerConfig, which 1.45 dropped; `belowApi150` fills in every unset config field, as
   * dockerd does for those clients.
   */
  inspect(img: Image, opts: { legacyFields?: boolean; belowApi150?: boolean } = {}): ImageInspect {
    const c = img.config;
    const legacy = opts.legacyFields ? { Container: c.container ?? '', ContainerConfig: c.container_config ?? emptyContainerConfig() } : {};
    return {
      Id: img.id,
      RepoTags: this.store.repoTags(img.id),
      RepoDigests: this.store.repoDigests(img.id),
      Parent: img.record.parent ?? '',
      Comment: c.comment ?? c.history?.[c.history.length - 1]?.comment ?? '',
      Created: c.created ?? '0001-01-01T00:00:00Z',
      ...legacy,
      DockerVersion: c.docker_version ?? '',
      Author: c.author ?? '',
      Config: { ...(opts.belowApi150 ? UNSET_CONFIG_BELOW_1_50 : UNSET_CONFIG_1_50), ...withoutUndefined(c.config ?? {}) },
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
    // An image without history shows none (as moby).
    if (items.length === 0) return [];
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
