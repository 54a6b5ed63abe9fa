/** One network: its settings and the containers attached to it. */
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { useSession } from '../../stores/session.js';
import { navigate } from '../../stores/ui.js';
import { InspectView } from '../containers/InspectView.js';

export function NetworkDetail({ id }: { id: string }) {
  const n = useModel((s) => s.networks.get(id));
  const engineId = useSession((s) => s.activeId);
  const attached = useModel((s) => [...s.containers.values()].filter((c) => n && c.networks.includes(n.name)).map((c) => `${c.id}\t${c.name}`).join('\n'));
  return (
    <section className="page" aria-labelledby="network-title">
      <a href="#/networks" className="back" onClick={(e) => (e.preventDefault(), navigate({ page: 'networks' }))}>
        ← Networks
      </a>
      <h1 id="network-title">{n?.name ?? id}</h1>
      {n && (
        <p className="muted">
          {n.driver} · {n.scope} · {n.subnets.join(', ') || 'no subnet'}
          {n.internal ? ' · internal' : ''}
        </p>
      )}
      <h2>Attached containers</h2>
      <ul className="plain-list">
        {attached
          ? attached.split('\n').map((line) => {
              const [cid, name] = line.split('\t') as [string, string];
              return (
                <li key={cid}>
                  <a href={`#/containers/${cid}/logs`} onClick={(e) => (e.preventDefault(), navigate({ page: 'container', id: cid, tab: 'logs' }))}>
                    {name}
                  </a>
                </li>
              );
            })
          : <li className="muted">none</li>}
      </ul>
      <h2>Inspect</h2>
      {engineId && <InspectView refreshKey={`${id}:${attached}`} load={() => api().call('networks.inspect', { engineId, id })} />}
    </section>
  );
}
