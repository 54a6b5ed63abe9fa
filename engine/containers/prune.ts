/** `docker container prune`: stopped containers matching the filters, and the space their writable layers used. */
import fs from 'node:fs';
import type { Filters } from '../api/filters.js';
import { parseTimestamp } from '../api/filters.js';
import { parseTimeMs } from '../system/time.js';
import { messageOf } from '../errdefs.js';
import type { ContainerService } from './service.js';
import { dirSize } from './views.js';

export async function pruneContainers(svc: ContainerService, upperDir: (id: string) => string, f: Filters): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
  const until = f.get('until').map((u) => parseTimestamp(u));
  const deleted: string[] = [];
  let space = 0;
  const lc = svc.lc;
  for (const c of svc.store.all()) {
    if (c.isRunning() || c.status === 'restarting' || c.status === 'removing') continue;
    if (!f.matchLabels('label', c.record.config.Labels)) continue;
    if (!f.noneOfLabels('label!', c.record.config.Labels)) continue;
    if (until.length > 0 && !until.every((t) => parseTimeMs(c.record.created) < t)) continue;
    const upper = upperDir(c.id);
    const size = fs.existsSync(upper) ? dirSize(upper) : 0;
    try {
      await svc.remove(c.id, { force: false, volumes: false });
      deleted.push(c.id);
      space += size;
    } catch (err) {
      lc.d.log.warn('prune: could not remove container', { container: c.id, err: messageOf(err) });
    }
  }
  lc.d.events.publish('container', 'prune', '', { reclaimed: String(space) });
  return { ContainersDeleted: deleted, SpaceReclaimed: space };
}
