/** Compose project actions: the whole project at once, its containers marked busy meanwhile. */
import type { ContainerAction } from '../../../../electron/contract/api.js';
import { api } from '../../api/client.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, toast } from '../../stores/ui.js';
import { withPending, type PendingOp } from '../../stores/pending.js';

const OP: Partial<Record<ContainerAction, PendingOp>> = { start: 'starting', stop: 'stopping', restart: 'restarting' };

export async function runProjectAction(project: string, ids: string[], action: 'start' | 'stop' | 'restart'): Promise<void> {
  const r = await withPending(ids, OP[action]!, () => attempt(`Could not ${action} ${project}`, () => api().call('projects.action', { engineId: requireEngineId(), project, action })));
  const failed = r?.filter((x) => x.error) ?? [];
  if (failed.length) toast('error', `Could not ${action} ${failed.length} of ${r!.length} containers of ${project}: ${failed[0]!.error}`);
}

export async function removeProject(project: string, ids: string[], volumes: boolean): Promise<boolean> {
  const r = await withPending(ids, 'removing', () => attempt(`Could not remove ${project}`, () => api().call('projects.remove', { engineId: requireEngineId(), project, volumes })));
  if (!r) return false;
  const failed = r.containers.filter((x) => x.error);
  if (failed.length) {
    toast('error', `Could not remove ${failed.length} of ${r.containers.length} containers of ${project}: ${failed[0]!.error}`);
    return false;
  }
  const extra = [r.networks.length ? `${r.networks.length} network${r.networks.length === 1 ? '' : 's'}` : '', r.volumes.length ? `${r.volumes.length} volume${r.volumes.length === 1 ? '' : 's'}` : ''].filter(Boolean);
  toast('success', `Removed ${project}: ${r.containers.length} container${r.containers.length === 1 ? '' : 's'}${extra.length ? `, ${extra.join(', ')}` : ''}`);
  return true;
}
