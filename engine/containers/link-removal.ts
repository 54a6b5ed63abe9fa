/**
 * `docker rm --link parent/alias` (DELETE /containers/{parent}/{alias}?link=1): drops a legacy
 * link from its parent, as moby's rmLink does — the parent's HostConfig.Links loses the entry and
 * its record is written; both containers stay, a running parent keeps its /etc/hosts and
 * environment until it restarts.
 */
import { ConflictError, NotFoundError } from '../errdefs.js';
import { parseLink } from '../network/links.js';
import type { Container } from './container.js';
import type { ContainerStore } from './store.js';

export async function removeLink(store: ContainerStore, linkName: string): Promise<void> {
  const name = linkName.replace(/^\/+/, '');
  const slash = name.lastIndexOf('/');
  if (slash <= 0) throw new ConflictError('Conflict, cannot remove the default link name of the container');
  const parentRef = name.slice(0, slash);
  const alias = name.slice(slash + 1);
  const parent: Container | undefined = store.find(parentRef);
  if (!parent) throw new NotFoundError(`No such container: ${name}`);
  await parent.lock.run(async () => {
    const links = parent.record.hostConfig.Links ?? [];
    const kept = links.filter((l) => parseLink(l).alias !== alias);
    if (kept.length === links.length) throw new NotFoundError(`No such container: ${name}`);
    parent.record.hostConfig.Links = kept.length > 0 ? kept : null;
    await store.save(parent);
  });
}
