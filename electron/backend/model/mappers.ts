/** Docker API objects (as dockerode returns them) → the contract's rows. */
import type Docker from 'dockerode';
import type { ContainerRow, ContainerState, ImageRow, NetworkRow, VolumeRow } from '../../contract/models.js';

const STATES = new Set<ContainerState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

export function containerRow(c: Docker.ContainerInfo): ContainerRow {
  const labels = c.Labels ?? {};
  const state = (STATES.has(c.State as ContainerState) ? c.State : 'dead') as ContainerState;
  const row: ContainerRow = {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
    image: c.Image,
    imageId: c.ImageID ?? '',
    command: c.Command ?? '',
    created: c.Created,
    state,
    status: c.Status ?? '',
    ports: dedupePorts(c.Ports ?? []).map((p) => ({
      ...(p.IP ? { ip: p.IP } : {}),
      privatePort: p.PrivatePort,
      ...(p.PublicPort ? { publicPort: p.PublicPort } : {}),
      type: p.Type,
    })),
    labels,
    volumes: (c.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name as string),
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
  };
  const project = labels['com.docker.compose.project'];
  const service = labels['com.docker.compose.service'];
  if (project) row.project = project;
  if (service) row.service = service;
  return row;
}

/** Docker lists a published port once per host address family (0.0.0.0 and ::); one link is enough. */
function dedupePorts(ports: Docker.Port[]): Docker.Port[] {
  const seen = new Set<string>();
  return ports.filter((p) => {
    const key = `${p.PrivatePort}/${p.Type}/${p.PublicPort ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function imageRow(i: Docker.ImageInfo): ImageRow {
  return {
    id: i.Id,
    repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    repoDigests: (i.RepoDigests ?? []).filter((d) => d !== '<none>@<none>'),
    created: i.Created,
    size: i.Size,
    labels: i.Labels ?? {},
  };
}

export function volumeRow(v: Docker.VolumeInspectInfo & { CreatedAt?: string }): VolumeRow {
  const row: VolumeRow = { name: v.Name, driver: v.Driver, mountpoint: v.Mountpoint, labels: v.Labels ?? {}, scope: v.Scope ?? 'local' };
  if (v.CreatedAt) row.created = v.CreatedAt;
  return row;
}

export function networkRow(n: Docker.NetworkInspectInfo): NetworkRow {
  const row: NetworkRow = {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    scope: n.Scope,
    internal: !!n.Internal,
    subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s),
    labels: n.Labels ?? {},
  };
  if (n.Created) row.created = n.Created;
  return row;
}
