/** Container actions from any screen: each marks its containers busy while it runs and reports failures. */
import type { ContainerAction } from '../../../../electron/contract/api.js';
import { api } from '../../api/client.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, toast, useUi } from '../../stores/ui.js';
import { withPending, type PendingOp } from '../../stores/pending.js';

const OP: Record<ContainerAction, PendingOp> = { start: 'starting', stop: 'stopping', restart: 'restarting', pause: 'pausing', unpause: 'unpausing', kill: 'killing' };
const VERB: Record<ContainerAction, string> = { start: 'start', stop: 'stop', restart: 'restart', pause: 'pause', unpause: 'unpause', kill: 'kill' };

export async function runContainerAction(ids: string[], action: ContainerAction): Promise<void> {
  const results = await withPending(ids, OP[action], () => attempt(`Could not ${VERB[action]}`, () => api().call('containers.action', { engineId: requireEngineId(), ids, action })));
  const failed = results?.filter((r) => r.error) ?? [];
  if (failed.length) toast('error', ids.length === 1 ? `Could not ${VERB[action]}: ${failed[0]!.error}` : `Could not ${VERB[action]} ${failed.length} of ${ids.length}: ${failed[0]!.error}`);
}

export async function removeContainers(ids: string[], force: boolean): Promise<boolean> {
  const results = await withPending(ids, 'removing', () => attempt('Could not remove', () => api().call('containers.remove', { engineId: requireEngineId(), ids, force, volumes: false })));
  if (!results) return false;
  const failed = results.filter((r) => r.error);
  useUi.setState((s) => ({ selection: new Set([...s.selection].filter((id) => !results.some((r) => r.id === id && !r.error))) }));
  if (failed.length) {
    toast('error', ids.length === 1 ? `Could not remove: ${failed[0]!.error}` : `Could not remove ${failed.length} of ${ids.length}: ${failed[0]!.error}`);
    return false;
  }
  toast('success', `Removed ${ids.length} container${ids.length === 1 ? '' : 's'}`);
  return true;
}
