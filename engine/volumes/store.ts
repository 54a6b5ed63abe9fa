/**
 * Volumes of the "local" driver: a directory <data-root>/volumes/<name>/_data
 * plus its record (volume.json), optionally backed by a mount described by
 * `-o type=... -o device=... -o o=...` (bind, tmpfs, ...). A volume with
 * mount options is mounted while at least one running container uses it,
 * as Docker's local driver does.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError, messageOf } from '../errdefs.js';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic.js';
import { KeyedMutex } from '../concurrency/mutex.js';
import { mount, unmount } from '../system/fsops.js';
import { isMountPoint } from '../system/mountinfo.js';

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const VALID_OPTS = ['type', 'o', 'device', 'size'];
const MANDATORY: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
}

export interface VolumeJson {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  UsageData?: { Size: number; RefCount: number };
}

/** RFC3339 to the second, as Docker shows volume creation times. */
function rfc3339Seconds(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function validateVolumeName(name: string): void {
  if (name.length < 2) throw new InvalidParameterError('volume name is too short, names should be at least two alphanumeric characters');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw new InvalidParameterError(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

function validateOpts(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) if (!VALID_OPTS.includes(k)) throw new InvalidParameterError(`invalid option: "${k}"`);
  for (const [opt, needs] of Object.entries(MANDATORY)) {
    if (!(opt in opts)) continue;
    for (const n of needs) if (!(n in opts)) throw new InvalidParameterError(`missing required option: "${n}"`);
  }
  if (opts.size !== undefined) throw new InvalidParameterError('quota size requested but no quota support');
}

export class VolumeStore {
  private readonly volumes = new Map<string, VolumeRecord>();
  /** Containers holding each option-backed volume mounted. */
  private readonly mountRefs = new Map<string, Set<string>>();
  private readonly locks = new KeyedMutex();

  constructor(readonly root: string) {}

  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o701 });
    for (const name of await fsp.readdir(this.root)) {
      const rec = await readJsonIfExists<VolumeRecord>(path.join(this.root, name, 'volume.json')).catch(() => undefined);
      if (rec && rec.Name === name) this.volumes.set(name, rec);
      else if (!fs.existsSync(path.join(this.root, name, 'volume.json'))) {
        // A create interrupted before its record was written.
        await fsp.rm(path.join(this.root, name), { recursive: true, force: true }).catch(() => undefined);
      }
    }
  }

  dataDir(name: string): string {
    return path.join(this.root, name, '_data');
  }

  all(): VolumeRecord[] {
    return [...this.volumes.values()];
  }

  find(name: string): VolumeRecord | undefined {
    return this.volumes.get(name);
  }

  get(name: string): VolumeRecord {
    const v = this.volumes.get(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return v;
  }

  json(v: VolumeRecord): VolumeJson {
    return { CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: this.dataDir(v.Name), Name: v.Name, Options: v.Options, Scope: 'local' };
  }

  isAnonymous(v: VolumeRecord): boolean {
    return v.Labels !== null && ANONYMOUS_LABEL in v.Labels;
  }

  /**
   * Creates a volume, or returns the existing one of that name (as Docker
   * does). Returns whether it was created.
   */
  async create(name: string, opts: { driver?: string; options?: Record<string, string> | null; labels?: Record<string, string> | null; anonymous?: boolean }): Promise<{ volume: VolumeRecord; created: boolean }> {
    const driver = opts.driver || 'local';
    if (driver !== 'local') throw new NotFoundError(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const anonymous = opts.anonymous || name === '';
    if (name === '') name = randomBytes(32).toString('hex');
    validateVolumeName(name);
    const options = opts.options && Object.keys(opts.options).length > 0 ? { ...opts.options } : opts.options === undefined ? null : opts.options;
    if (options) validateOpts(options);
    return this.locks.run(name, async () => {
      const existing = this.volumes.get(name);
      if (existing) return { volume: existing, created: false };
      const labels = { ...(opts.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) };
      const rec: VolumeRecord = { Name: name, Driver: 'local', CreatedAt: rfc3339Seconds(), Labels: Object.keys(labels).length > 0 ? labels : opts.labels === undefined ? null : labels, Options: options };
      const dir = path.join(this.root, name);
      await fsp.mkdir(path.join(dir, '_data'), { recursive: true, mode: 0o755 });
      await writeJsonAtomic(path.join(dir, 'volume.json'), rec);
      this.volumes.set(name, rec);
      return { volume: rec, created: true };
    });
  }

  async remove(name: string): Promise<void> {
    await this.locks.run(name, async () => {
      const v = this.volumes.get(name);
      if (!v) throw new NotFoundError(`get ${name}: no such volume`);
      if ((this.mountRefs.get(name)?.size ?? 0) > 0) throw new ConflictError(`remove ${name}: volume is in use`);
      if (this.needsMount(v) && isMountPoint(this.dataDir(name))) await unmount(this.dataDir(name)).catch(() => unmount(this.dataDir(name), true));
      this.volumes.delete(name);
      // Remove the record first: a crash halfway leaves a directory init() cleans up, never a record without data.
      await fsp.rm(path.join(this.root, name, 'volume.json'), { force: true });
      await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
    });
  }

  needsMount(v: VolumeRecord): boolean {
    return !!v.Options && (v.Options.type !== undefined || v.Options.device !== undefined);
  }

  /** Makes the volume's data available for a container and returns its path (mounting it on first use). */
  async mount(name: string, containerId: string): Promise<string> {
    return this.locks.run(name, async () => {
      const v = this.get(name);
      const dir = this.dataDir(name);
      if (!this.needsMount(v)) return dir;
      const refs = this.mountRefs.get(name) ?? new Set<string>();
      if (refs.size === 0 && !isMountPoint(dir)) {
        const o = v.Options!;
        await fsp.mkdir(dir, { recursive: true });
        try {
          await mount(o.device!, dir, o.type!, o.o ? [o.o] : []);
        } catch (err) {
          throw new SystemError(`error while mounting volume '${dir}': failed to mount local volume: ${messageOf(err)}`);
        }
      }
      refs.add(containerId);
      this.mountRefs.set(name, refs);
      return dir;
    });
  }

  /** Drops a container's use; the last one unmounts an option-backed volume. */
  async unmount(name: string, containerId: string): Promise<void> {
    await this.locks.run(name, async () => {
      const v = this.volumes.get(name);
      const refs = this.mountRefs.get(name);
      if (!v || !refs) return;
      refs.delete(containerId);
      if (refs.size > 0) return;
      this.mountRefs.delete(name);
      const dir = this.dataDir(name);
      if (this.needsMount(v) && isMountPoint(dir)) await unmount(dir).catch(() => unmount(dir, true));
    });
  }

  /** After a restart: running containers still hold their volumes; mounts nobody holds are released. */
  async restoreMounts(holders: Map<string, Set<string>>): Promise<void> {
    for (const v of this.volumes.values()) {
      if (!this.needsMount(v)) continue;
      const refs = holders.get(v.Name);
      if (refs && refs.size > 0) this.mountRefs.set(v.Name, new Set(refs));
      else if (isMountPoint(this.dataDir(v.Name))) await unmount(this.dataDir(v.Name)).catch(() => unmount(this.dataDir(v.Name), true).catch(() => undefined));
    }
  }
}
