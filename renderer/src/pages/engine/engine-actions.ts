/** Engine start/stop/restart and switching, with failures reported as notifications. */
import { api } from '../../api/client.js';
import { attempt, toast } from '../../stores/ui.js';
import { useSession } from '../../stores/session.js';

export async function engineAction(engineId: string, action: 'start' | 'stop' | 'restart'): Promise<void> {
  const name = useSession.getState().engines.find((e) => e.id === engineId)?.name ?? engineId;
  const done = await attempt(`Could not ${action} ${name}`, () => api().call(`engines.${action}`, { engineId }));
  if (done) toast('success', `${name}: ${done.state}`);
}

export async function switchEngine(engineId: string): Promise<void> {
  await attempt('Could not switch engines', () => api().call('engines.setActive', { engineId }));
}
