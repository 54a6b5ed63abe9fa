/**
 * `docker rmi` with moby's rules: a name only untags unless it was the last
 * reference; an ID deletes; running containers are a hard conflict, stopped
 * ones and multiple references a soft one (overridden by force); deleting an
 * image prunes its now-dangling local parents.
 */
import { ConflictError } from '../errdefs.js';
import type { ImageDeleteItem } from '../api/types.js';
import type { EventBus } from '../events/bus.js';
import type { ImageStore } from './store.js';
import { parseReference, type Reference } from './reference.js';

export interface ContainerUse {
  id: string;
  imageId: string;
  running: boolean;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

class DeleteConflict extends ConflictError {
  constructor(
    id: string,
    readonly hard: boolean,
    readonly used: boolean,
    message: string,
  ) {
    super(`conflict: unable to delete ${short(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`);
  }
}

/** True when every reference is in one repository and at most one is a tag. */
function isSingleReference(refs: Reference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: Reference | undefined;
  const names = new Set<string>();
  for (const r of refs) {
    if (r.digest !== undefined) names.add(r.name);
    else if (!single) {
      names.add(r.name);
      single = r;
    } else return false;
  }
  single ??= refs[0]!;
  return names.size === 1 && names.has(single.name);
}

export class ImageDeleter {
  constructor(
    private readonly store: ImageStore,
    private readonly events: EventBus,
    private readonly containers: () => ContainerUse[],
  ) {}

  private event(action: string, id: string, name: string): void {
    this.events.publish('image', action, id, { name });
  }

  private conflict(id: string, mask: { hard: boolean; soft: boolean; activeRefs: boolean }): DeleteConflict | undefined {
    if (this.store.children(id).length > 0) return new DeleteConflict(id, true, false, 'image has dependent child images');
    const users = this.containers().filter((c) => c.imageId === id);
    const running = users.find((c) => c.running);
    if (running) return new DeleteConflict(id, true, true, `image is being used by running container ${running.id.slice(0, 12)}`);
    if (mask.soft && mask.activeRefs && this.store.references(id).length > 0) return new DeleteConflict(id, false, false, 'image is referenced in multiple repositories');
    const stopped = users.find((c) => !c.running);
    if (mask.soft && stopped) return new DeleteConflict(id, false, true, `image is being used by stopped container ${stopped.id.slice(0, 12)}`);
    return undefined;
  }

  private async untag(ref: Reference, id: string, out: ImageDeleteItem[]): Promise<void> {
    await this.store.removeReference(ref);
    out.push({ Untagged: ref.familiarString() });
    this.event('untag', id, id);
  }

  async delete(nameOrId: string, force: boolean, prune: boolean): Promise<ImageDeleteItem[]> {
    const img = this.store.lookup(nameOrId);
    const id = img.id;
    const out: ImageDeleteItem[] = [];
    let refs = this.store.references(id);
    const byId = id.startsWith(nameOrId) || id.slice('sha256:'.length).startsWith(nameOrId);
    let removedRef = false;
    if (!byId) {
      const ref = parseReference(nameOrId).tagged();
      if (!force && isSingleReference(refs)) {
        const user = this.containers().find((c) => c.imageId === id);
        if (user) {
          throw new ConflictError(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${short(id)}`);
        }
      }
      await this.untag(ref, id, out);
      refs = this.store.references(id);
      if (ref.digest === undefined && !refs.some((r) => r.digest === undefined && r.name === ref.name)) {
        // The last tag of a repository takes its digest references with it.
        const remaining: Reference[] = [];
        for (const r of refs) {
          if (r.digest !== undefined && r.name === ref.name) await this.untag(r, id, out);
          else remaining.push(r);
        }
        refs = remaining;
      }
      if (refs.length > 0) return out;
      removedRef = true;
    } else if (isSingleReference(refs)) {
      const c = this.conflict(id, { hard: true, soft: !force, activeRefs: false });
      if (c) throw c;
      for (const r of refs) await this.untag(r, id, out);
    }
    await this.deleteHelper(id, out, force, prune, removedRef);
    return out;
  }

  private async deleteHelper(id: string, out: ImageDeleteItem[], force: boolean, prune: boolean, quiet: boolean): Promise<void> {
    const c = this.conflict(id, { hard: true, soft: !force, activeRefs: true });
    if (c) {
      const dangling = this.store.references(id).length === 0;
      if (quiet && (!dangling || c.used)) return;
      throw c;
    }
    const img = this.store.get(id);
    if (!img) return;
    const parent = img.record.parent;
    for (const r of this.store.references(id)) await this.untag(r, id, out);
    const removedLayers = await this.store.delete(id);
    this.event('delete', id, id);
    out.push({ Deleted: id });
    for (const l of removedLayers) out.push({ Deleted: l });
    if (!prune || !parent || !this.store.get(parent)) return;
    if (this.store.references(parent).length > 0) return;
    await this.deleteHelper(parent, out, false, true, true);
  }
}
