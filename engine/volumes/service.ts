/**
 * Volumes and mounts in a container's life: at create, mounts are parsed
 * and the volumes they name are created (named, implicit from `-v name:/p`,
 * anonymous); at start, volumes are mounted (copy-up of the image's content
 * into a new empty volume) and everything becomes OCI mounts; at exit they
 * are released; `rm -v` removes the anonymous ones. Plus the volume API.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError, messageOf } from '../errdefs.js';
import type { Filters } from '../api/filters.js';
import type { HostConfig, MountPoint } from '../api/types.js';
import type { Container, ContainerRecord } from '../containers/container.js';
import type { ContainerStore } from '../containers/store.js';
import type { OciMount } from '../containers/spec.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../daemon/log.js';
import { resolveInRoot } from '../storage/rootpath.js';
import { run } from '../system/command.js';
import { dirSize } from '../containers/views.js';
import { type VolumeJson, type VolumeRecord, VolumeStore } from './store.js';
import { parseBind, parseMountSpec, parseVolumesFrom, tmpfsOptions, toMountPoint, type PlannedMount } from './mounts.js';
import { checkSharedHostPath } from './shared-paths.js';

export interface VolumeServiceDeps {
  root: string;
  containers: ContainerStore;
  events: EventBus;
  log: Logger;
  /** In Berth's VM: the shared host folders bind mounts must come from (undefined: any path). */
  sharedHostPaths?: () => readonly string[] | undefined;
}

export const volumeFilterKeys = ['dangling', 'driver', 'label', 'name'];

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

export class VolumeService {
  readonly store: VolumeStore;

  constructor(private readonly d: VolumeServiceDeps) {
    this.store = new VolumeStore(d.root);
  }

  async init(): Promise<void> {
    await this.store.init();
  }

  /** After containers are loaded: running containers keep their option-backed volumes mounted. */
  async restore(): Promise<void> {
    const holders = new Map<string, Set<string>>();
    for (const c of this.d.containers.all()) {
      if (!c.isRunning()) continue;
      for (const m of c.record.mounts) {
        if (m.Type !== 'volume' || !m.Name) continue;
        const s = holders.get(m.Name) ?? new Set<string>();
        s.add(c.id);
        holders.set(m.Name, s);
      }
    }
    await this.store.restoreMounts(holders);
  }

  private event(action: string, name: string, attrs: Record<string, string> = {}): void {
    this.d.events.publish('volume', action, name, { driver: 'local', ...attrs });
  }

  // ---- container lifecycle ------------------------------------------------------------

  verifyHostPaths(hc: HostConfig): void {
    const shared = this.d.sharedHostPaths?.();
    if (!shared) return;
    for (const raw of hc.Binds ?? []) {
      let p: PlannedMount;
      try {
        p = parseBind(raw);
      } catch {
        continue; // a malformed bind is reported where it always was, by creating()
      }
      if (p.type === 'bind') checkSharedHostPath(p.source, shared);
    }
    for (const m of hc.Mounts ?? []) if (m.Type === 'bind' && m.Source?.startsWith('/')) checkSharedHostPath(m.Source, shared);
  }

  /** Create time (after verifyHostPaths): parse every mount source, create the volumes they need, and record the mount points. */
  async creating(r: ContainerRecord): Promise<void> {
    const hc = r.hostConfig;
    const points = new Map<string, MountPoint>();
    const planned: PlannedMount[] = [];
    const dup = (dest: string) => new InvalidParameterError(`Duplicate mount point: ${dest}`);

    for (const spec of hc.VolumesFrom ?? []) {
      const { container, mode } = parseVolumesFrom(spec);
      const src = this.d.containers.find(container);
      if (!src) throw new InvalidParameterError(`No such container: ${container}`);
      for (const m of src.record.mounts) points.set(m.Destination, { ...m, RW: m.RW && !mode.split(',').includes('ro') });
    }
    const taken = new Set<string>();
    for (const raw of hc.Binds ?? []) {
      const p = parseBind(raw);
      if (taken.has(p.destination) || (hc.Tmpfs && p.destination in hc.Tmpfs)) throw dup(p.destination);
      taken.add(p.destination);
      planned.push(p);
    }
    for (const m of hc.Mounts ?? []) {
      const p = parseMountSpec(m);
      if (taken.has(p.destination)) throw dup(m.Target);
      taken.add(p.destination);
      planned.push(p);
    }
    for (const p of planned) points.delete(p.destination);
    // Anonymous volumes: `-v /path` and the image's VOLUMEs, where nothing else is mounted.
    for (const dest of Object.keys(r.config.Volumes ?? {})) {
      if (!dest.startsWith('/')) throw new InvalidParameterError(`invalid mount config for type "volume": invalid mount path: '${dest}' mount path must be absolute`);
      const clean = path.posix.normalize(dest).replace(/(.)\/$/, '$1');
      if (taken.has(clean) || points.has(clean) || (hc.Tmpfs && clean in hc.Tmpfs)) continue;
      taken.add(clean);
      planned.push({ type: 'volume', name: '', source: '', destination: clean, mode: '', rw: true, propagation: '', createSource: false });
    }
    for (const p of planned) {
      if (p.type !== 'volume') {
        points.set(p.destination, toMountPoint(p, p.source));
        continue;
      }
      const { volume, created } = await this.store.create(p.name, {
        ...(p.driver ? { driver: p.driver } : {}),
        ...(p.volumeDriverOpts ? { options: p.volumeDriverOpts } : {}),
        ...(p.volumeLabels ? { labels: p.volumeLabels } : {}),
        anonymous: p.name === '',
      });
      if (created) this.event('create', volume.Name);
      const mp = toMountPoint({ ...p, name: volume.Name }, this.store.dataDir(volume.Name));
      // An anonymous volume from -v /path or the image shows no mode, as in Docker.
      if (p.name === '' && p.mode === '') mp.Mode = '';
      points.set(p.destination, mp);
    }
    r.mounts = [...points.values()].sort((a, b) => (a.Destination < b.Destination ? -1 : a.Destination > b.Destination ? 1 : 0));
  }

  /** Start time: the OCI mounts of the container's volumes, binds and tmpfs mounts. */
  async mounts(c: Container, rootfs: string): Promise<OciMount[]> {
    const r = c.record;
    const out: OciMount[] = [];
    const specs = r.hostConfig.Mounts ?? [];
    const specFor = (dest: string) => specs.find((s) => path.posix.normalize(s.Target).replace(/(.)\/$/, '$1') === dest);
    for (const m of [...r.mounts].sort((a, b) => depth(a.Destination) - depth(b.Destination))) {
      const spec = specFor(m.Destination);
      if (m.Type === 'tmpfs') {
        out.push({ destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: spec ? tmpfsOptions(spec) : ['nosuid', 'nodev', 'noexec'] });
        continue;
      }
      let source = m.Source;
      if (m.Type === 'volume') {
        if (!m.Name || !this.store.find(m.Name)) throw new NotFoundError(`error while mounting volume '${m.Source}': get ${m.Name}: no such volume`);
        const dir = await this.store.mount(m.Name, c.id);
        this.event('mount', m.Name, { container: c.id, destination: m.Destination, propagation: m.Propagation, 'read/write': String(m.RW) });
        source = dir;
        const sub = spec?.VolumeOptions?.Subpath;
        if (sub) {
          source = resolveInRoot(dir, sub);
          if (!fs.existsSync(source)) throw new InvalidParameterError(`cannot access path ${source}: no such file or directory`);
        }
        const nocopy = m.Mode.split(',').includes('nocopy') || spec?.VolumeOptions?.NoCopy === true;
        if (!nocopy && !sub) await this.copyUp(rootfs, m.Destination, dir);
      } else {
        // The shared folders may have changed since create (a VM restart with other settings).
        checkSharedHostPath(source, this.d.sharedHostPaths?.());
        if (!fs.existsSync(source)) {
          // -v /host/dir:/ctr creates a missing host directory; --mount does not.
          if (spec && !spec.BindOptions?.CreateMountpoint) throw new InvalidParameterError(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
          await fsp.mkdir(source, { recursive: true, mode: 0o755 });
        }
      }
      out.push({ destination: m.Destination, type: 'bind', source, options: ['rbind', m.RW ? 'rw' : 'ro', m.Propagation || 'rprivate'] });
    }
    return out;
  }

  /** Copies what the image has at the mount path into an empty volume (Docker's copy-up), with the directory's owner and mode. */
  private async copyUp(rootfs: string, dest: string, volumeDir: string): Promise<void> {
    if ((await fsp.readdir(volumeDir)).length > 0) return;
    let src: string;
    try {
      src = resolveInRoot(rootfs, dest);
    } catch {
      return;
    }
    const st = await fsp.lstat(src).catch(() => undefined);
    if (!st?.isDirectory()) return;
    if ((await fsp.readdir(src)).length > 0) {
      await run('cp', ['-a', '--', `${src}/.`, `${volumeDir}/`]).catch((err) => {
        throw new SystemError(`copying image content of ${dest} into its volume: ${messageOf(err)}`);
      });
    }
    await fsp.chown(volumeDir, st.uid, st.gid);
    await fsp.chmod(volumeDir, st.mode & 0o7777);
  }

  async exited(c: Container): Promise<void> {
    for (const m of c.record.mounts) {
      if (m.Type !== 'volume' || !m.Name) continue;
      await this.store.unmount(m.Name, c.id).catch((err) => this.d.log.warn('volume unmount failed', { volume: m.Name, err: messageOf(err) }));
      this.event('unmount', m.Name, { container: c.id });
    }
  }

  /** `rm -v`: the container's anonymous volumes go too, unless another container still uses them. */
  async removed(c: Container, opts: { volumes: boolean }): Promise<void> {
    if (!opts.volumes) return;
    for (const m of c.record.mounts) {
      const name = m.Name;
      if (m.Type !== 'volume' || !name) continue;
      const v = this.store.find(name);
      if (!v || !this.store.isAnonymous(v)) continue;
      if (this.users(name, c.id).length > 0) continue;
      await this.store.remove(name).then(
        () => this.event('destroy', name),
        (err) => this.d.log.warn('could not remove anonymous volume', { volume: name, err: messageOf(err) }),
      );
    }
  }

  /** Containers (running or not) whose mounts name a volume. */
  users(name: string, except?: string): string[] {
    return this.d.containers
      .all()
      .filter((c) => c.id !== except && !c.removed && c.record.mounts.some((m) => m.Type === 'volume' && m.Name === name))
      .map((c) => c.id);
  }

  // ---- API ----------------------------------------------------------------------------------

  list(f: Filters): VolumeJson[] {
    const dangling = f.bool('dangling');
    return this.store
      .all()
      .filter((v) => f.matchAny('name', (n) => v.Name.includes(n)))
      .filter((v) => f.matchAny('driver', (n) => n === v.Driver))
      .filter((v) => f.matchLabels('label', v.Labels))
      .filter((v) => dangling === undefined || (this.users(v.Name).length === 0) === dangling)
      .map((v) => this.store.json(v));
  }

  inspect(name: string): VolumeJson {
    return this.store.json(this.store.get(name));
  }

  async create(body: unknown): Promise<VolumeJson> {
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) throw new InvalidParameterError('json: cannot unmarshal into Go value of type volume.CreateOptions');
    const b = (body ?? {}) as { Name?: unknown; Driver?: unknown; DriverOpts?: unknown; Labels?: unknown };
    for (const [k, v] of [
      ['Name', b.Name],
      ['Driver', b.Driver],
    ] as const) {
      if (v !== undefined && v !== null && typeof v !== 'string') throw new InvalidParameterError(`json: cannot unmarshal ${typeof v} into Go struct field CreateOptions.${k} of type string`);
    }
    const strMap = (v: unknown, k: string): Record<string, string> | null | undefined => {
      if (v === undefined || v === null) return v as null | undefined;
      if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new InvalidParameterError(`json: cannot unmarshal into Go struct field CreateOptions.${k} of type map[string]string`);
      return v as Record<string, string>;
    };
    const labels = strMap(b.Labels, 'Labels');
    const options = strMap(b.DriverOpts, 'DriverOpts');
    const { volume, created } = await this.store.create((b.Name as string | undefined) ?? '', {
      driver: (b.Driver as string | undefined) ?? 'local',
      ...(options !== undefined ? { options } : {}),
      ...(labels !== undefined ? { labels } : {}),
    });
    if (created) this.event('create', volume.Name);
    return this.store.json(volume);
  }

  async remove(name: string, force: boolean): Promise<void> {
    const v = this.store.find(name);
    if (!v) {
      if (force) return;
      throw new NotFoundError(`get ${name}: no such volume`);
    }
    const users = this.users(name);
    if (users.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.store.remove(name);
    this.event('destroy', name);
  }

  async prune(f: Filters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const all = f.bool('all') ?? false;
    const deleted: string[] = [];
    let space = 0;
    for (const v of this.store.all()) {
      if (!all && !this.store.isAnonymous(v)) continue;
      if (!f.matchLabels('label', v.Labels) || !f.noneOfLabels('label!', v.Labels)) continue;
      if (this.users(v.Name).length > 0) continue;
      const size = this.store.needsMount(v) ? 0 : dirSize(this.store.dataDir(v.Name));
      try {
        await this.store.remove(v.Name);
        this.event('destroy', v.Name);
        deleted.push(v.Name);
        space += size;
      } catch (err) {
        this.d.log.warn('prune: could not remove volume', { volume: v.Name, err: messageOf(err) });
      }
    }
    this.d.events.publish('volume', 'prune', '', { reclaimed: String(space) });
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }

  /** Volumes with their size and reference count, for `docker system df`. */
  usage(): VolumeJson[] {
    return this.store.all().map((v: VolumeRecord) => ({
      ...this.store.json(v),
      UsageData: { Size: this.store.needsMount(v) ? -1 : dirSize(this.store.dataDir(v.Name)), RefCount: this.users(v.Name).length },
    }));
  }
}
