/** Networks: driver, subnet, attached containers; create and remove. */
import { useMemo, useState } from 'react';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, errorText, navigate, toast } from '../../stores/ui.js';
import { shortId } from '../../lib/format.js';
import { ConfirmDialog, FormDialog } from '../../components/Dialog.js';
import { Empty } from '../../components/common.js';

const BUILTIN = new Set(['bridge', 'host', 'none']);

function CreateNetworkDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [driver, setDriver] = useState('bridge');
  const [subnet, setSubnet] = useState('');
  const [internal, setInternal] = useState(false);
  const [error, setError] = useState<string>();
  const submit = async () => {
    try {
      await api().call('networks.create', { engineId: requireEngineId(), name: name.trim(), driver, internal, ...(subnet.trim() ? { subnet: subnet.trim() } : {}) });
      toast('success', `Created network ${name}`);
      onClose();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <FormDialog title="Create a network" submitLabel="Create" canSubmit={name.trim() !== ''} onSubmit={() => void submit()} onClose={onClose} error={error}>
      <label className="field">
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Network name" />
      </label>
      <label className="field">
        Driver
        <select value={driver} onChange={(e) => setDriver(e.target.value)} aria-label="Driver">
          <option value="bridge">bridge</option>
          <option value="macvlan">macvlan</option>
          <option value="ipvlan">ipvlan</option>
        </select>
      </label>
      <label className="field">
        Subnet
        <input value={subnet} onChange={(e) => setSubnet(e.target.value)} placeholder="chosen by the engine if empty (e.g. 172.30.0.0/16)" aria-label="Subnet" />
      </label>
      <label className="check">
        <input type="checkbox" checked={internal} onChange={(e) => setInternal(e.target.checked)} /> Internal (no outside access)
      </label>
    </FormDialog>
  );
}

export function NetworksPage() {
  const networks = useModel((s) => s.networks);
  const containers = useModel((s) => s.containers);
  const loaded = useModel((s) => s.loaded.networks);
  const [creating, setCreating] = useState(false);
  const [removing, setRemoving] = useState<{ id: string; name: string } | null>(null);
  const attached = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const c of containers.values()) for (const n of c.networks) m.set(n, [...(m.get(n) ?? []), c.name]);
    return m;
  }, [containers]);
  const list = useMemo(() => [...networks.values()].sort((a, b) => a.name.localeCompare(b.name)), [networks]);
  const remove = async (n: { id: string; name: string }) => {
    setRemoving(null);
    const r = await attempt('Could not remove the network', () => api().call('networks.remove', { engineId: requireEngineId(), ids: [n.id] }));
    if (r?.[0]?.error) toast('error', r[0].error);
    else if (r) toast('success', `Removed network ${n.name}`);
  };
  return (
    <section className="page" aria-labelledby="networks-title">
      <div className="page-head">
        <h1 id="networks-title">Networks</h1>
        <div className="toolbar">
          <button className="primary" onClick={() => setCreating(true)}>
            Create…
          </button>
        </div>
      </div>
      {!loaded ? (
        <div className="loading">Loading networks…</div>
      ) : list.length === 0 ? (
        <Empty title="No networks" />
      ) : (
        <table className="simple networks-table" aria-label="Networks">
          <thead>
            <tr>
              <th>Name</th>
              <th>ID</th>
              <th>Driver</th>
              <th>Subnet</th>
              <th>Containers</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.map((n) => (
              <tr key={n.id} data-network={n.name}>
                <td>
                  <a href={`#/networks/${n.id}`} onClick={(e) => (e.preventDefault(), navigate({ page: 'network', id: n.id }))}>
                    {n.name}
                  </a>
                  {n.internal && <span className="badge grey">internal</span>}
                </td>
                <td className="mono">{shortId(n.id)}</td>
                <td>{n.driver}</td>
                <td className="mono">{n.subnets.join(', ')}</td>
                <td>{(attached.get(n.name) ?? []).join(', ') || <span className="muted">none</span>}</td>
                <td className="row-actions">
                  {!BUILTIN.has(n.name) && (
                    <button className="small danger" aria-label={`Remove ${n.name}`} onClick={() => setRemoving(n)}>
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && <CreateNetworkDialog onClose={() => setCreating(false)} />}
      {removing && <ConfirmDialog title={`Remove network ${removing.name}`} message={<p>Containers must be disconnected first.</p>} confirmLabel="Remove" danger onCancel={() => setRemoving(null)} onConfirm={() => void remove(removing)} />}
    </section>
  );
}
