/**
 * Disk usage and clean-up: `docker system df` as totals and items, what each
 * prune would delete (computed with the rules the engine's prune applies, so
 * the preview matches), and the prunes themselves.
 */
import type Docker from 'dockerode';
import type { DiskUsage, PruneKind } from '../../contract/models.js';

interface DfImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Size?: number;
  SharedSize?: number;
  Containers?: number;
}
interface DfContainer {
  Id: string;
  Names?: string[];
  State?: string;
  SizeRw?: number;
  ImageID?: string;
}
interface DfVolume {
  Name: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size?: number; RefCount?: number } | null;
}
interface DfBuildCache {
  ID: string;
  Description?: string;
  Size?: number;
  InUse?: boolean;
  Shared?: boolean;
}
interface Df {
  LayersSize?: number;
  Images?: DfImage[] | null;
  Containers?: DfContainer[] | null;
  Volumes?: DfVolume[] | null;
  BuildCache?: DfBuildCache[] | null;
}

const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none']);
const STOPPED = new Set(['exited', 'created', 'dead']);

const tagsOf = (i: DfImage) => (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
const nameOfImage = (i: DfImage) => tagsOf(i)[0] ?? `<none>@${i.Id.replace(/^sha256:/, '').slice(0, 12)}`;
const nameOfContainer = (c: DfContainer) => (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');
const positive = (n: number | undefined) => (n !== undefined && n > 0 ? n : 0);

async function df(docker: Docker): Promise<Df> {
  return (await docker.df()) as Df;
}

/** Image ids some container uses (df's per-image count is -1 on engines that do not compute it). */
function usedImages(d: Df): Set<string> {
  return new Set((d.Containers ?? []).map((c) => c.ImageID ?? '').filter(Boolean));
}

export async function diskUsage(docker: Docker): Promise<DiskUsage> {
  const d = await df(docker);
  const images = d.Images ?? [];
  const containers = d.Containers ?? [];
  const volumes = d.Volumes ?? [];
  const cache = d.BuildCache ?? [];
  const used = usedImages(d);
  const imageActive = images.filter((i) => used.has(i.Id) || positive(i.Containers) > 0);
  // As the CLI computes RECLAIMABLE: the unique size of images no container uses.
  const imagesSize = d.LayersSize ?? images.reduce((n, i) => n + positive(i.Size), 0);
  const imageReclaim = images.filter((i) => !imageActive.includes(i)).reduce((n, i) => n + Math.max(0, positive(i.Size) - positive(i.SharedSize)), 0);
  const running = containers.filter((c) => !STOPPED.has(c.State ?? ''));
  const volActive = volumes.filter((v) => positive(v.UsageData?.RefCount) > 0);
  return {
    images: { count: images.length, active: imageActive.length, size: imagesSize, reclaimable: Math.min(imagesSize, imageReclaim) },
    containers: {
      count: containers.length,
      active: running.length,
      size: containers.reduce((n, c) => n + positive(c.SizeRw), 0),
      reclaimable: containers.filter((c) => STOPPED.has(c.State ?? '')).reduce((n, c) => n + positive(c.SizeRw), 0),
    },
    volumes: {
      count: volumes.length,
      active: volActive.length,
      size: volumes.reduce((n, v) => n + positive(v.UsageData?.Size), 0),
      reclaimable: volumes.filter((v) => positive(v.UsageData?.RefCount) === 0).reduce((n, v) => n + positive(v.UsageData?.Size), 0),
    },
    buildCache: {
      count: cache.length,
      active: cache.filter((c) => c.InUse).length,
      size: cache.reduce((n, c) => n + positive(c.Size), 0),
      reclaimable: cache.filter((c) => !c.InUse && !c.Shared).reduce((n, c) => n + positive(c.Size), 0),
    },
    imageItems: images
      .map((i) => ({ id: i.Id, name: nameOfImage(i), size: positive(i.Size), shared: positive(i.SharedSize), containers: used.has(i.Id) ? Math.max(1, positive(i.Containers)) : positive(i.Containers) }))
      .sort((a, b) => b.size - a.size),
    containerItems: containers.map((c) => ({ id: c.Id, name: nameOfContainer(c), size: positive(c.SizeRw), state: c.State ?? '' })).sort((a, b) => b.size - a.size),
    volumeItems: volumes.map((v) => ({ name: v.Name, size: v.UsageData?.Size ?? -1, refCount: v.UsageData?.RefCount ?? -1 })).sort((a, b) => b.size - a.size),
  };
}

export interface PruneItem {
  id: string;
  name: string;
  size: number;
}

/** What `docker <kind> prune` (with --all when asked) would delete now. */
export async function prunePreview(docker: Docker, kind: PruneKind, all: boolean): Promise<{ items: PruneItem[]; size: number }> {
  let items: PruneItem[] = [];
  if (kind === 'networks') {
    const [networks, containers] = await Promise.all([docker.listNetworks(), docker.listContainers({ all: true })]);
    const inUse = new Set(containers.flatMap((c) => Object.values(c.NetworkSettings?.Networks ?? {}).map((n) => (n as { NetworkID?: string }).NetworkID ?? '')));
    const usedNames = new Set(containers.flatMap((c) => Object.keys(c.NetworkSettings?.Networks ?? {})));
    items = networks.filter((n) => !BUILTIN_NETWORKS.has(n.Name) && !inUse.has(n.Id) && !usedNames.has(n.Name)).map((n) => ({ id: n.Id, name: n.Name, size: 0 }));
  } else {
    const d = await df(docker);
    switch (kind) {
      case 'containers':
        items = (d.Containers ?? []).filter((c) => STOPPED.has(c.State ?? '')).map((c) => ({ id: c.Id, name: nameOfContainer(c), size: positive(c.SizeRw) }));
        break;
      case 'images': {
        const used = usedImages(d);
        items = (d.Images ?? [])
          .filter((i) => !used.has(i.Id) && positive(i.Containers) === 0 && (all || tagsOf(i).length === 0))
          .map((i) => ({ id: i.Id, name: nameOfImage(i), size: Math.max(0, positive(i.Size) - positive(i.SharedSize)) }));
        break;
      }
      case 'volumes':
        // Since Docker 23, prune takes only anonymous volumes unless --all.
        items = (d.Volumes ?? []).filter((v) => positive(v.UsageData?.RefCount) === 0 && (all || Object.hasOwn(v.Labels ?? {}, ANONYMOUS_LABEL))).map((v) => ({ id: v.Name, name: v.Name, size: positive(v.UsageData?.Size) }));
        break;
      case 'build-cache':
        items = (d.BuildCache ?? []).filter((c) => !c.InUse && (all || !c.Shared)).map((c) => ({ id: c.ID, name: c.Description || c.ID.slice(0, 12), size: positive(c.Size) }));
        break;
    }
  }
  return { items, size: items.reduce((n, i) => n + i.size, 0) };
}

export async function prune(docker: Docker, kind: PruneKind, all: boolean): Promise<{ deleted: string[]; spaceReclaimed: number }> {
  switch (kind) {
    case 'containers': {
      const r = await docker.pruneContainers();
      return { deleted: r.ContainersDeleted ?? [], spaceReclaimed: r.SpaceReclaimed ?? 0 };
    }
    case 'images': {
      const r = await docker.pruneImages({ filters: { dangling: [all ? 'false' : 'true'] } });
      return { deleted: (r.ImagesDeleted ?? []).map((x) => x.Deleted ?? x.Untagged ?? '').filter(Boolean), spaceReclaimed: r.SpaceReclaimed ?? 0 };
    }
    case 'volumes': {
      const r = await docker.pruneVolumes(all ? { filters: { all: ['true'] } } : {});
      return { deleted: r.VolumesDeleted ?? [], spaceReclaimed: r.SpaceReclaimed ?? 0 };
    }
    case 'networks': {
      const r = await docker.pruneNetworks();
      return { deleted: r.NetworksDeleted ?? [], spaceReclaimed: 0 };
    }
    case 'build-cache': {
      const r = (await docker.pruneBuilder((all ? { all: true } : {}) as Docker.PruneBuilderOptions)) as { CachesDeleted?: string[] | null; SpaceReclaimed?: number };
      return { deleted: r.CachesDeleted ?? [], spaceReclaimed: r.SpaceReclaimed ?? 0 };
    }
  }
}
