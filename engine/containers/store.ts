/**
 * All containers: lookup by ID, name or unique ID prefix (Docker's rules and
 * messages), the name registry, and atomic persistence of each record.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, InvalidParameterError, NotFoundError } from '../errdefs.js';
import { writeJsonAtomic, removeStaleTempFiles } from '../storage/atomic.js';
import type { Logger } from '../daemon/log.js';
import { Container, type ContainerRecord } from './container.js';

const RECORD_FILE = 'config.v2.json';

export class ContainerStore {
  private readonly byId = new Map<string, Container>();
  private readonly byName = new Map<string, string>();
  /** The record write in flight per container: a removal waits for it, later writes queue behind it. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    readonly root: string,
    private readonly log: Logger,
  ) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  async load(): Promise<Container[]> {
    await fsp.mkdir(this.root, { recursive: true });
    for (const name of await fsp.readdir(this.root)) {
      if (name.startsWith('.trash-')) await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
    }
    for (const id of await fsp.readdir(this.root)) {
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      await removeStaleTempFiles(this.dir(id));
      try {
        const record = JSON.parse(await fsp.readFile(path.join(this.dir(id), RECORD_FILE), 'utf8')) as ContainerRecord;
        const c = new Container(record);
        this.byId.set(id, c);
        this.byName.set(record.name, id);
      } catch (err) {
        // A container whose create was interrupted before its record was written.
        this.log.warn('removing container directory without a valid record', { id, err: (err as Error).message });
        await fsp.rm(this.dir(id), { recursive: true, force: true });
      }
    }
    return [...this.byId.values()];
  }

  all(): Container[] {
    return [...this.byId.values()];
  }

  count(): number {
    return this.byId.size;
  }

  /** Registers a new container and reserves its name (409 on a clash). */
  add(c: Container): void {
    this.reserveName(c.name, c.id);
    this.byId.set(c.id, c);
  }

  reserveName(name: string, id: string): void {
    const holder = this.byName.get(name);
    if (holder !== undefined && holder !== id) {
      throw new ConflictError(
        `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  nameTaken(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Writes the record atomically. The store is the one owner of a container's directory: writes
   * are serialized per container and a removal waits for the one in flight, so a save racing a
   * `docker rm` (an exit handler, a network hook) is either finished before the directory goes or
   * skipped — never a temp file renamed into a directory that was just moved away.
   */
  async save(c: Container): Promise<void> {
    const prev = this.writes.get(c.id);
    const write = (async () => {
      if (prev) await prev.catch(() => undefined);
      if (c.removed || this.byId.get(c.id) !== c) return;
      await writeJsonAtomic(path.join(this.dir(c.id), RECORD_FILE), c.record);
    })();
    this.writes.set(c.id, write);
    try {
      await write;
    } finally {
      if (this.writes.get(c.id) === write) this.writes.delete(c.id);
    }
  }

  /** Forgets the container. Its directory is renamed away at once (atomic) and deleted in the background. */
  async remove(c: Container): Promise<void> {
    // From here on no new write starts (save checks byId); the one in flight finishes first.
    this.byId.delete(c.id);
    this.releaseName(c.name, c.id);
    const pending = this.writes.get(c.id);
    if (pending) await pending.catch(() => undefined);
    const trash = path.join(this.root, `.trash-${c.id}`);
    try {
      await fsp.rename(this.dir(c.id), trash);
    } catch {
      await fsp.rm(this.dir(c.id), { recursive: true, force: true });
      return;
    }
    void fsp.rm(trash, { recursive: true, force: true }).catch((err) => this.log.warn('removing container files failed', { id: c.id, err: (err as Error).message }));
  }

  find(idOrName: string): Container | undefined {
    const exact = this.byId.get(idOrName);
    if (exact) return exact;
    const name = idOrName.startsWith('/') ? idOrName.slice(1) : idOrName;
    const byName = this.byName.get(name);
    if (byName !== undefined) return this.byId.get(byName);
    if (!/^[a-f0-9]+$/.test(idOrName)) return undefined;
    let match: Container | undefined;
    for (const [id, c] of this.byId) {
      if (!id.startsWith(idOrName)) continue;
      if (match) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${idOrName}`);
      match = c;
    }
    return match;
  }

  /** Finds a container or throws 404 "No such container: X". */
  get(idOrName: string): Container {
    if (idOrName === '') throw new NotFoundError('No such container: ');
    const c = this.find(idOrName);
    if (!c) throw new NotFoundError(`No such container: ${idOrName}`);
    return c;
  }
}
