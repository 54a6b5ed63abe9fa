/** Networks: driver, subnet, attached containers; create and remove. */
import { useMemo, useState } from 'react';
import type { NetworkRow } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, errorText, navigate, toast } from '../../stores/ui.js';
import { useSort } from '../../stores/views.js';
import { withPending } from '../../stores/pending.js';
import { shortId } from '../../lib/format.js';
import { ConfirmDialog, FormDialog } from '../../components/Dialog.js';
import { Empty } from '../../components/common.js';
import { Icon } from '../../components/Icon.js';
import { DataTable } from '../../components/table/DataTable.js';
import { BulkBar, type BulkAction } from '../../components/table/BulkBar.js';
import type { Column } from '../../components/table/columns.js';

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
  const [removing, setRemoving] = useState<NetworkRow[] | null>(null);
  const [selection, setSelection] = useState<Set<string>>(new Set());
  const [search, setSearch] = useState('');
  const [sort, setSort] = useSort('networks', { column: 'name', dir: 'asc' });
  const attached = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const c of containers.values()) for (const n of c.networks) m.set(n, [...(m.get(n) ?? []), c.name]);
    return m;
  }, [containers]);
  const list = useMemo(() => {
    const q = search.toLowerCase();
    return [...networks.values()].filter((n) => !q || `${n.name} ${n.driver} ${n.subnets.join(' ')} ${n.id.slice(0, 12)}`.toLowerCase().includes(q));
  }, [networks, search]);
  const remove = async (ns: NetworkRow[]) => {
    setRemoving(null);
    const r = await withPending(
      ns.map((n) => n.id),
      'removing',
      () => attempt('Could not remove', () => api().call('networks.remove', { engineId: requireEngineId(), ids: ns.map((n) => n.id) })),
    );
    const failed = r?.filter((x) => x.error) ?? [];
    if (failed.length) toast('error', ns.length === 1 ? failed[0]!.error! : `Could not remove ${failed.length} of ${ns.length}: ${failed[0]!.error}`);
    else if (r) toast('success', ns.length === 1 ? `Removed network ${ns[0]!.name}` : `Removed ${ns.length} networks`);
    setSelection(new Set());
  };
  const columns = useMemo<Column<NetworkRow>[]>(
    () => [
      {
        id: 'name',
        title: 'Name',
        width: 'minmax(140px, 2fr)',
        sortValue: (n) => n.name,
        cellTitle: (n) => n.name,
        render: (n) => (
          <>
            <a href={`#/networks/${n.id}`} onClick={(e) => (e.preventDefault(), navigate({ page: 'network', id: n.id }))}>
              {n.name}
            </a>
            {n.internal && <span className="badge grey">internal</span>}
          </>
        ),
      },
      { id: 'id', title: 'ID', width: '110px', hideBelow: 700, sortValue: (n) => n.id, render: (n) => <span className="mono">{shortId(n.id)}</span> },
      { id: 'driver', title: 'Driver', width: '80px', sortValue: (n) => n.driver, render: (n) => n.driver },
      { id: 'subnet', title: 'Subnet', width: 'minmax(110px, 1.2fr)', sortValue: (n) => n.subnets[0], render: (n) => <span className="mono">{n.subnets.join(', ')}</span>, cellTitle: (n) => n.subnets.join(', ') },
      {
        id: 'containers',
        title: 'Containers',
        width: 'minmax(100px, 1.5fr)',
        sortValue: (n) => (attached.get(n.name) ?? []).length,
        initialDir: 'desc',
        cellTitle: (n) => (attached.get(n.name) ?? []).join(', '),
        render: (n) => (attached.get(n.name) ?? []).join(', ') || <span className="muted">none</span>,
      },
      {
        id: 'actions',
        title: '',
        width: '60px',
        render: (n) =>
          BUILTIN.has(n.name) ? null : (
            <div className="row-actions">
              <button className="small danger" aria-label={`Remove ${n.name}`} title="Remove" onClick={() => setRemoving([n])}>
                <Icon name="trash" />
              </button>
            </div>
          ),
      },
    ],
    [attached],
  );
  const selectedRows = list.filter((n) => selection.has(n.id));
  const bulk: BulkAction[] = [{ id: 'remove', label: 'Remove', danger: true, enabled: selectedRows.length > 0 && selectedRows.every((n) => !BUILTIN.has(n.name)), run: () => setRemoving(selectedRows) }];
  return (
    <section className="page" aria-labelledby="networks-title">
      <div className="page-head">
        <h1 id="networks-title">Networks</h1>
        <div className="toolbar">
          <input data-search type="search" placeholder="Search (press /)" aria-label="Search networks" value={search} onChange={(e) => setSearch(e.target.value)} />
          <button className="primary" onClick={() => setCreating(true)}>
            Create…
          </button>
        </div>
      </div>
      <BulkBar summary={selectedRows.length ? `${selectedRows.length} selected` : `${list.length} of ${networks.size} networks`} actions={bulk} />
      <DataTable
        label="Networks"
        className="networks-table"
        columns={columns}
        rows={list}
        rowKey={(n) => n.id}
        sort={sort}
        onSort={setSort}
        selection={{ selected: selection, onChange: setSelection, label: (n) => `Select ${n.name}` }}
        rowAttrs={(n) => ({ 'data-network': n.name })}
        onOpen={(n) => navigate({ page: 'network', id: n.id })}
        {...(!loaded ? { loading: 'Loading networks…' } : {})}
        empty={<Empty title={networks.size ? 'No networks match' : 'No networks'} />}
      />
      {creating && <CreateNetworkDialog onClose={() => setCreating(false)} />}
      {removing && (
        <ConfirmDialog
          title={removing.length === 1 ? `Remove network ${removing[0]!.name}` : `Remove ${removing.length} networks`}
          message={<p>Containers must be disconnected first.</p>}
          confirmLabel="Remove"
          danger
          onCancel={() => setRemoving(null)}
          onConfirm={() => void remove(removing)}
        />
      )}
    </section>
  );
}
