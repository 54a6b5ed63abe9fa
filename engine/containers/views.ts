/**
 * Read-only views of containers in the API's shapes: `inspect` JSON and the
 * `ps` list with its filters (moby's semantics: regex name/id matches,
 * before/since by creation order, ancestor including child images).
 */
import path from 'node:path';
import { InvalidParameterError } from '../errdefs.js';
import { Filters } from '../api/filters.js';
import type { ContainerInspect, ContainerSummary, PortSummary } from '../api/types.js';
import type { ImageStore } from '../images/store.js';
import type { NetworkManager } from '../network/manager.js';
import { parseTimeMs } from '../system/time.js';
import { etcPaths } from '../network/etc-files.js';
import type { Container } from './container.js';
import type { ContainerStore } from './store.js';
import type { RootfsManager } from './rootfs.js';
import { walkConfinedSync } from '../storage/confined.js';
import { logLimits, logSize } from './log-rotation.js';
import { commandString } from './env.js';

export const containerFilterKeys = ['ancestor', 'before', 'exited', 'id', 'isolation', 'label', 'name', 'status', 'health', 'since', 'volume', 'network', 'is-task', 'publish', 'expose'];
const validStates = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

function regexMatch(pattern: string, value: string): boolean {
  if (pattern === value) return true;
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return false;
  }
}

/** Bytes used by a directory tree (for SizeRw / SizeRootFs). */
export function dirSize(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  // The directory is a container's (or a volume's) to change while we add it up: walked without following links.
  walkConfinedSync(dir, ({ stat: st }) => {
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) {
        if (seen.has(key)) return;
        seen.add(key);
      }
      total += st.size;
    } else if (st.isSymbolicLink()) total += st.size;
  });
  return total;
}

export interface ListOptions {
  all: boolean;
  limit?: number | undefined;
  size: boolean;
  filters: Filters;
}

export class ContainerViews {
  constructor(
    private readonly store: ContainerStore,
    private readonly images: ImageStore,
    private readonly networks: NetworkManager,
    private readonly rootfs: RootfsManager,
  ) {}

  private imageSize(c: Container): number {
    const img = this.images.get(c.record.imageId);
    return img ? this.images.size(img) : 0;
  }

  inspect(c: Container, size: boolean): ContainerInspect {
    const r = c.record;
    const dir = this.store.dir(r.id);
    const etc = etcPaths(dir);
    const running = c.isRunning();
    const out: ContainerInspect = {
      Id: r.id,
      Created: r.created,
      Path: r.path,
      Args: r.args,
      State: c.stateJson(),
      Image: r.imageId,
      ResolvConfPath: etc.resolvConf,
      HostnamePath: etc.hostname,
      HostsPath: etc.hosts,
      LogPath: r.logPath,
      LogSize: logSize(r.logPath, logLimits(r.hostConfig.LogConfig).maxFile),
      Name: `/${r.name}`,
      RestartCount: r.restartCount,
      Driver: 'overlay2',
      Platform: 'linux',
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: c.execIds.size > 0 ? [...c.execIds] : null,
      HostConfig: r.hostConfig,
      GraphDriver: {
        Name: 'overlay2',
        Data: {
          MergedDir: this.rootfs.mergedDir(r.id),
          UpperDir: this.rootfs.upperDir(r.id),
          WorkDir: path.join(this.rootfs.dir(r.id), 'work'),
        },
      },
      Mounts: r.mounts,
      Config: r.config,
      NetworkSettings: this.networks.settings(r, running),
    };
    if (size) {
      out.SizeRw = dirSize(this.rootfs.upperDir(r.id));
      out.SizeRootFs = out.SizeRw + this.imageSize(c);
    }
    return out;
  }

  summary(c: Container, size: boolean, now: number): ContainerSummary {
    const r = c.record;
    const img = this.images.get(r.imageId);
    let imageName = r.config.Image;
    // ps shows the image as the user named it, unless that name now points elsewhere.
    if (img) {
      const current = this.images.find(imageName);
      if (!current || current.id !== img.id) imageName = img.id;
    } else imageName = r.imageId;
    // As Docker: the live port map of a running container (published and merely exposed ports); none otherwise.
    const ports: PortSummary[] = [];
    if (c.isRunning()) {
      for (const [key, bindings] of Object.entries(r.ports ?? {})) {
        const [port, proto = 'tcp'] = key.split('/');
        if (!bindings || bindings.length === 0) ports.push({ PrivatePort: Number(port), Type: proto });
        for (const b of bindings ?? []) ports.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
      }
    }
    const out: ContainerSummary = {
      Id: r.id,
      Names: [`/${r.name}`],
      Image: imageName,
      ImageID: r.imageId,
      Command: commandString(r),
      Created: Math.floor(parseTimeMs(r.created) / 1000),
      Ports: ports,
      Labels: r.config.Labels ?? {},
      State: r.state.status,
      Status: c.statusString(now),
      HostConfig: { NetworkMode: r.hostConfig.NetworkMode },
      NetworkSettings: { Networks: r.networks },
      Mounts: r.mounts,
    };
    if (size) {
      out.SizeRw = dirSize(this.rootfs.upperDir(r.id));
      out.SizeRootFs = out.SizeRw + this.imageSize(c);
    }
    return out;
  }

  list(opts: ListOptions): ContainerSummary[] {
    const f = opts.filters.validate(containerFilterKeys);
    let all = opts.all;
    for (const s of f.get('status')) {
      if (!validStates.includes(s)) throw new InvalidParameterError(`invalid filter 'status=${s}': invalid value for state (${s}): must be one of ${validStates.join(', ')}`);
      all = true;
    }
    const exited = f.get('exited').map((v) => {
      if (!/^-?\d+$/.test(v)) throw new InvalidParameterError(`invalid filter 'exited=${v}': strconv.Atoi: parsing "${v}": invalid syntax`);
      return Number(v);
    });
    for (const h of f.get('health')) {
      if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw new InvalidParameterError(`invalid filter 'health=${h}'`);
    }
    const byCreated = this.store.all().sort((a, b) => (b.record.created < a.record.created ? -1 : b.record.created > a.record.created ? 1 : 0));
    let beforeId: string | undefined;
    let sinceId: string | undefined;
    for (const v of f.get('before')) beforeId = this.store.get(v).id;
    for (const v of f.get('since')) sinceId = this.store.get(v).id;
    let ancestorIds: Set<string> | undefined;
    if (f.has('ancestor')) {
      ancestorIds = new Set();
      for (const a of f.get('ancestor')) {
        const img = this.images.find(a);
        if (!img) continue;
        ancestorIds.add(img.id);
        // and every image built on it
        let grew = true;
        while (grew) {
          grew = false;
          for (const i of this.images.all()) {
            if (i.record.parent && ancestorIds.has(i.record.parent) && !ancestorIds.has(i.id)) {
              ancestorIds.add(i.id);
              grew = true;
            }
          }
        }
      }
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const out: ContainerSummary[] = [];
    const now = Date.now();
    let skipping = beforeId !== undefined;
    for (const c of byCreated) {
      const r = c.record;
      if (skipping) {
        if (c.id === beforeId) skipping = false;
        continue;
      }
      if (sinceId !== undefined && c.id === sinceId) break;
      const running = c.isRunning() || c.status === 'restarting';
      if (!running && !all && limit <= 0) continue;
      if (f.has('name') && !f.get('name').some((n) => regexMatch(n, `/${r.name}`) || regexMatch(n, r.name))) continue;
      if (f.has('id') && !f.get('id').some((n) => r.id.startsWith(n) || regexMatch(n, r.id))) continue;
      if (!f.matchLabels('label', r.config.Labels)) continue;
      if (limit > 0 && out.length === limit) break;
      if (exited.length > 0 && !(exited.includes(r.state.exitCode) && !c.isRunning() && r.hasBeenStartedBefore)) continue;
      if (f.has('status') && !f.get('status').includes(r.state.status)) continue;
      if (f.has('health') && !f.get('health').includes(r.state.health?.Status ?? 'none')) continue;
      if (ancestorIds && !ancestorIds.has(r.imageId)) continue;
      if (f.has('volume') && !f.get('volume').some((v) => r.mounts.some((m) => m.Destination === v || m.Name === v || m.Source === v))) continue;
      if (f.has('network') && !f.get('network').some((v) => v in r.networks || Object.values(r.networks).some((n) => n.NetworkID.startsWith(v)))) continue;
      if (f.has('publish') && !f.get('publish').some((p) => portMatches(p, Object.entries(r.ports ?? {}).flatMap(([k, bs]) => (bs ?? []).map((b) => `${b.HostPort}/${k.split('/')[1] ?? 'tcp'}`))))) continue;
      if (f.has('expose') && !f.get('expose').some((p) => portMatches(p, Object.keys(r.config.ExposedPorts ?? {})))) continue;
      out.push(this.summary(c, opts.size, now));
    }
    return out;
  }
}

/** Matches "80", "80/tcp" or "8000-8080/tcp" against "port/proto" strings. */
function portMatches(filter: string, ports: string[]): boolean {
  const [range, proto = 'tcp'] = filter.split('/');
  const [lo, hi = lo] = range!.split('-').map(Number);
  return ports.some((p) => {
    const [n, pr = 'tcp'] = p.split('/');
    return pr === proto && Number(n) >= lo! && Number(n) <= hi!;
  });
}
