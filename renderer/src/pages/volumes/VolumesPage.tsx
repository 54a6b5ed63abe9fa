/** Volumes: which containers use each, size, create, remove (bulk), prune, browse. */
import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, errorText, navigate, toast } from '../../stores/ui.js';
import { formatBytes } from '../../lib/format.js';
import { ConfirmDialog, FormDialog } from '../../components/Dialog.js';
import { Empty } from '../../components/common.js';

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
  const [usage, setUsage] = useState<Record<string, { size: number; refCount: number }>>({});
  const [creating, setCreating] = useState(false);
  const [removing, setRemoving] = useState<string[] | null>(null);
  const [force, setForce] = useState(false);
  const [pruning, setPruning] = useState(false);
  const [selection, setSelection] = useState<Set<string>>(new Set());

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
  const list = useMemo(() => [...volumes.values()].sort((a, b) => a.name.localeCompare(b.name)), [volumes]);

  const remove = async (ids: string[]) => {
    setRemoving(null);
    const r = await attempt('Could not remove volumes', () => api().call('volumes.remove', { engineId: requireEngineId(), names: ids, force }));
    const failed = r?.filter((x) => x.error) ?? [];
    if (failed.length) toast('error', `Could not remove ${failed.length} of ${ids.length}: ${failed[0]!.error}`);
    else if (r) toast('success', `Removed ${ids.length} volume${ids.length === 1 ? '' : 's'}`);
    setSelection(new Set());
  };
  const prune = async () => {
    setPruning(false);
    const r = await attempt('Could not prune volumes', () => api().call('volumes.prune', { engineId: requireEngineId() }));
    if (r) toast('success', `Deleted ${r.deleted.length} volumes, reclaimed ${formatBytes(r.spaceReclaimed)}`);
  };
  const toggle = (n: string) =>
    setSelection((s) => {
      const next = new Set(s);
      if (next.has(n)) next.delete(n);
      else next.add(n);
      return next;
    });

  return (
    <section className="page" aria-labelledby="volumes-title">
      <div className="page-head">
        <h1 id="volumes-title">Volumes</h1>
        <div className="toolbar">
          <button className="primary" onClick={() => setCreating(true)}>
            Create…
          </button>
          <button className="danger" disabled={!selection.size} onClick={() => setRemoving([...selection])}>
            Remove selected
          </button>
          <button onClick={() => setPruning(true)}>Prune…</button>
        </div>
      </div>
      {!loaded ? (
        <div className="loading">Loading volumes…</div>
      ) : list.length === 0 ? (
        <Empty title="No volumes yet">
          <p>Volumes keep data when containers are deleted. Create one, or use -v name:/path with docker run.</p>
        </Empty>
      ) : (
        <table className="simple volumes-table" aria-label="Volumes">
          <thead>
            <tr>
              <th />
              <th>Name</th>
              <th>Driver</th>
              <th>In use by</th>
              <th>Size</th>
              <th>Created</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.map((v) => {
              const users = usedBy.get(v.name) ?? [];
              const size = usage[v.name]?.size;
              return (
                <tr key={v.name} data-volume={v.name}>
                  <td>
                    <input type="checkbox" aria-label={`Select ${v.name}`} checked={selection.has(v.name)} onChange={() => toggle(v.name)} />
                  </td>
                  <td>
                    <a href={`#/volumes/${encodeURIComponent(v.name)}`} onClick={(e) => (e.preventDefault(), navigate({ page: 'volume', name: v.name, path: '/' }))}>
                      {v.name}
                    </a>
                  </td>
                  <td>{v.driver}</td>
                  <td>{users.length ? users.join(', ') : <span className="muted">unused</span>}</td>
                  <td>{size === undefined || size < 0 ? '—' : formatBytes(size)}</td>
                  <td>{v.created ? new Date(v.created).toLocaleString() : ''}</td>
                  <td className="row-actions">
                    <button className="small" onClick={() => navigate({ page: 'volume', name: v.name, path: '/' })}>
                      Browse
                    </button>
                    <button className="small danger" aria-label={`Remove ${v.name}`} onClick={() => setRemoving([v.name])}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {creating && <CreateVolumeDialog onClose={() => setCreating(false)} />}
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
      {pruning && <ConfirmDialog title="Prune volumes" message={<p>Delete every volume no container uses.</p>} confirmLabel="Prune" danger onCancel={() => setPruning(false)} onConfirm={() => void prune()} />}
    </section>
  );
}
