/** Volumes: which containers use each, size, create, remove (bulk), prune, browse, export, clone. */
import { useEffect, useMemo, useState } from 'react';
import type { VolumeRow } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId, useSession } from '../../stores/session.js';
import { attempt, errorText, navigate, toast } from '../../stores/ui.js';
import { useSort } from '../../stores/views.js';
import { usePendingOp, withPending } from '../../stores/pending.js';
import { formatBytes } from '../../lib/format.js';
import { ConfirmDialog, FormDialog } from '../../components/Dialog.js';
import { Empty } from '../../components/common.js';
import { Icon } from '../../components/Icon.js';
import { DataTable } from '../../components/table/DataTable.js';
import { BulkBar, type BulkAction } from '../../components/table/BulkBar.js';
import type { Column } from '../../components/table/columns.js';
import { downloadFiles } from '../containers/archive.js';
import { CloneVolumeDialog } from './VolumeDetail.js';

export function CreateVolumeDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const submit = async () => {
    try {
      const r = await api().call('volumes.create', { engineId: requireEngineId(), ...(name.trim() ? { name: name.trim() } : {}) });
      toast('success', `Created volume ${r.name}`);
      onClose();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <FormDialog title="Create a volume" submitLabel="Create" onSubmit={() => void submit()} onClose={onClose} error={error}>
      <label className="field">
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="random if empty" aria-label="Volume name" />
      </label>
    </FormDialog>
  );
}

export function VolumesPage() {
  const volumes = useModel((s) => s.volumes);
  const containers = useModel((s) => s.containers);
  const loaded = useModel((s) => s.loaded.volumes);
  const engineId = useSession((s) => s.activeId);
  const [usage, setUsage] = useState<Record<string, { size: number; refCount: number }>>({});
  const [creating, setCreating] = useState(false);
  const [removing, setRemoving] = useState<string[] | null>(null);
  const [cloning, setCloning] = useState<string | null>(null);
  const [force, setForce] = useState(false);
  const [pruning, setPruning] = useState(false);
  const [selection, setSelection] = useState<Set<string>>(new Set());
  const [search, setSearch] = useState('');
  const [sort, setSort] = useSort('volumes', { column: 'name', dir: 'asc' });

  // Sizes are computed by the engine on demand (disk usage), when the list changes.
  const names = [...volumes.keys()].sort().join('\n');
  useEffect(() => {
    if (!names) return;
    let live = true;
    api()
      .call('volumes.usage', { engineId: requireEngineId() })
      .then(
        (u) => live && setUsage(u),
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [names]);

  const usedBy = useMemo(() => {
    const m = new Map<string, string[]>();
    for (const c of containers.values()) for (const v of c.volumes) m.set(v, [...(m.get(v) ?? []), c.name]);
    return m;
  }, [containers]);
  const list = useMemo(() => {
    const q = search.toLowerCase();
    return [...volumes.values()].filter((v) => !q || `${v.name} ${v.driver} ${(usedBy.get(v.name) ?? []).join(' ')}`.toLowerCase().includes(q));
  }, [volumes, search, usedBy]);

  const remove = async (ids: string[]) => {
    setRemoving(null);
    const r = await withPending(ids, 'removing', () => attempt('Could not remove volumes', () => api().call('volumes.remove', { engineId: requireEngineId(), names: ids, force })));
    const failed = r?.filter((x) => x.error) ?? [];
    if (failed.length) toast('error', ids.length === 1 ? `Could not remove ${ids[0]}: ${failed[0]!.error}` : `Could not remove ${failed.length} of ${ids.length}: ${failed[0]!.error}`);
    else if (r) toast('success', `Removed ${ids.length} volume${ids.length === 1 ? '' : 's'}`);
    setSelection(new Set());
  };
  const prune = async () => {
    setPruning(false);
    const r = await attempt('Could not prune volumes', () => api().call('volumes.prune', { engineId: requireEngineId() }));
    if (r) toast('success', r.deleted.length ? `Deleted ${r.deleted.length} volume${r.deleted.length === 1 ? '' : 's'}, reclaimed ${formatBytes(r.spaceReclaimed)}` : 'Nothing to prune');
  };

  const columns = useMemo<Column<VolumeRow>[]>(
    () => [
      {
        id: 'name',
        title: 'Name',
        width: 'minmax(160px, 2.5fr)',
        sortValue: (v) => v.name,
        cellTitle: (v) => v.name,
        render: (v) => (
          <a href={`#/volumes/${encodeURIComponent(v.name)}`} onClick={(e) => (e.preventDefault(), navigate({ page: 'volume', name: v.name, path: '/' }))}>
            {v.name}
          </a>
        ),
      },
      { id: 'driver', title: 'Driver', width: '70px', hideBelow: 640, sortValue: (v) => v.driver, render: (v) => v.driver },
      {
        id: 'users',
        title: 'In use by',
        width: 'minmax(100px, 1.5fr)',
        sortValue: (v) => (usedBy.get(v.name) ?? []).join(', ') || undefined,
        cellTitle: (v) => (usedBy.get(v.name) ?? []).join(', '),
        render: (v) => {
          const users = usedBy.get(v.name) ?? [];
          return users.length ? users.join(', ') : <span className="muted">unused</span>;
        },
      },
      {
        id: 'size',
        title: 'Size',
        width: '80px',
        align: 'end',
        initialDir: 'desc',
        sortValue: (v) => usage[v.name]?.size,
        render: (v) => {
          const size = usage[v.name]?.size;
          return size === undefined || size < 0 ? '—' : formatBytes(size);
        },
      },
      { id: 'created', title: 'Created', width: '160px', hideBelow: 760, initialDir: 'desc', sortValue: (v) => (v.created ? Date.parse(v.created) : undefined), render: (v) => (v.created ? new Date(v.created).toLocaleString() : '') },
      {
        id: 'actions',
        title: '',
        width: '146px',
        render: (v) => (
          <VolumeRowActions
            name={v.name}
            onBrowse={() => navigate({ page: 'volume', name: v.name, path: '/' })}
            onExport={() => engineId && downloadFiles(engineId, { kind: 'volume', name: v.name }, '/', true, `${v.name}.tar`)}
            onClone={() => setCloning(v.name)}
            onRemove={() => setRemoving([v.name])}
          />
        ),
      },
    ],
    [usedBy, usage, engineId],
  );

  const selected = list.filter((v) => selection.has(v.name)).map((v) => v.name);
  const bulk: BulkAction[] = [{ id: 'remove', label: 'Remove', danger: true, enabled: selected.length > 0, run: () => setRemoving(selected) }];

  return (
    <section className="page" aria-labelledby="volumes-title">
      <div className="page-head">
        <h1 id="volumes-title">Volumes</h1>
        <div className="toolbar">
          <input data-search type="search" placeholder="Search (press /)" aria-label="Search volumes" value={search} onChange={(e) => setSearch(e.target.value)} />
          <button className="primary" onClick={() => setCreating(true)}>
            Create…
          </button>
          <button onClick={() => setPruning(true)}>Prune…</button>
        </div>
      </div>
      <BulkBar summary={selected.length ? `${selected.length} selected` : `${list.length} of ${volumes.size} volumes`} actions={bulk} />
      <DataTable
        label="Volumes"
        className="volumes-table"
        columns={columns}
        rows={list}
        rowKey={(v) => v.name}
        sort={sort}
        onSort={setSort}
        selection={{ selected: selection, onChange: setSelection, label: (v) => `Select ${v.name}` }}
        rowAttrs={(v) => ({ 'data-volume': v.name })}
        onOpen={(v) => navigate({ page: 'volume', name: v.name, path: '/' })}
        onDelete={(rows) => setRemoving(rows.map((r) => r.name))}
        {...(!loaded ? { loading: 'Loading volumes…' } : {})}
        empty={
          <Empty title={volumes.size ? 'No volumes match' : 'No volumes yet'}>
            <p>Volumes keep data when containers are deleted. Create one, or use -v name:/path with docker run.</p>
          </Empty>
        }
      />
      {creating && <CreateVolumeDialog onClose={() => setCreating(false)} />}
      {cloning && <CloneVolumeDialog name={cloning} onClose={() => setCloning(null)} />}
      {removing && (
        <ConfirmDialog
          title={removing.length === 1 ? `Remove volume ${removing[0]}` : `Remove ${removing.length} volumes`}
          message={<p>The data in {removing.length === 1 ? 'this volume' : 'these volumes'} is deleted. Volumes in use cannot be removed.</p>}
          confirmLabel="Remove"
          danger
          option={{ label: 'Force', value: force, onChange: setForce }}
          onCancel={() => setRemoving(null)}
          onConfirm={() => void remove(removing)}
        />
      )}
      {pruning && <ConfirmDialog title="Prune volumes" message={<p>Delete the anonymous volumes no container uses (as docker volume prune does). The Disk usage page shows what would go, and can include named volumes.</p>} confirmLabel="Prune" danger onCancel={() => setPruning(false)} onConfirm={() => void prune()} />}
    </section>
  );
}

function VolumeRowActions({ name, onBrowse, onExport, onClone, onRemove }: { name: string; onBrowse: () => void; onExport: () => void; onClone: () => void; onRemove: () => void }) {
  const pending = usePendingOp(name);
  return (
    <div className="row-actions">
      <button className="small" onClick={onBrowse} aria-label={`Browse ${name}`} title="Browse files">
        Browse
      </button>
      <button className="small" onClick={onExport} aria-label={`Export ${name}`} title="Export as a tar archive">
        <Icon name="download" />
      </button>
      <button className="small" onClick={onClone} aria-label={`Clone ${name}`} title="Clone">
        <Icon name="plus" />
      </button>
      <button className="small danger" disabled={!!pending} aria-label={`Remove ${name}`} title="Remove" onClick={onRemove}>
        {pending ? <span className="spinner" aria-hidden="true" /> : <Icon name="trash" />}
      </button>
    </div>
  );
}
