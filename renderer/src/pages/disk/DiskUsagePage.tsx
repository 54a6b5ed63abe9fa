/**
 * Disk usage (`docker system df`): what images, containers, volumes and the
 * build cache take and how much could go, each with a prune that first shows
 * exactly what it would delete. Refreshed when the engine's lists change.
 */
import { useCallback, useEffect, useState } from 'react';
import type { DiskUsage, PruneKind } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, errorText, toast } from '../../stores/ui.js';
import { formatBytes } from '../../lib/format.js';
import { Dialog } from '../../components/Dialog.js';

const KINDS: Array<{ kind: PruneKind; key: 'images' | 'containers' | 'volumes' | 'buildCache'; title: string; allLabel?: string; what: string }> = [
  { kind: 'images', key: 'images', title: 'Images', allLabel: 'All unused images, not only dangling ones', what: 'dangling images (untagged, used by no container)' },
  { kind: 'containers', key: 'containers', title: 'Containers', what: 'stopped containers (exited or created) and their writable layers' },
  { kind: 'volumes', key: 'volumes', title: 'Volumes', allLabel: 'Named volumes too, not only anonymous ones', what: 'anonymous volumes no container uses' },
  { kind: 'build-cache', key: 'buildCache', title: 'Build cache', allLabel: 'All of it, not only unused entries', what: 'build cache no build uses' },
];

function PruneDialog({ kind, title, what, allLabel, onClose, onDone }: { kind: PruneKind; title: string; what: string; allLabel: string | undefined; onClose: () => void; onDone: () => void }) {
  const [all, setAll] = useState(false);
  const [preview, setPreview] = useState<{ items: Array<{ id: string; name: string; size: number }>; size: number } | null>(null);
  const [error, setError] = useState<string>();
  const [running, setRunning] = useState(false);
  useEffect(() => {
    let live = true;
    setPreview(null);
    setError(undefined);
    api()
      .call('system.prunePreview', { engineId: requireEngineId(), kind, all })
      .then(
        (p) => live && setPreview(p),
        (e) => live && setError(errorText(e)),
      );
    return () => {
      live = false;
    };
  }, [kind, all]);
  const run = async () => {
    setRunning(true);
    const r = await attempt(`Could not prune ${title.toLowerCase()}`, () => api().call('system.prune', { engineId: requireEngineId(), kind, all }));
    setRunning(false);
    if (r) toast('success', r.deleted.length ? `Deleted ${r.deleted.length} (${title.toLowerCase()}), reclaimed ${formatBytes(r.spaceReclaimed)}` : `Nothing to prune in ${title.toLowerCase()}`);
    onDone();
    onClose();
  };
  const n = preview?.items.length ?? 0;
  return (
    <Dialog
      title={`Prune ${title.toLowerCase()}`}
      onClose={onClose}
      wide
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="danger" disabled={!preview || n === 0 || running} onClick={() => void run()}>
            {running ? 'Deleting…' : n ? `Delete ${n}` : 'Nothing to delete'}
          </button>
        </>
      }
    >
      <p>Deletes {all && allLabel ? allLabel.toLowerCase() : what}. Nothing else is touched.</p>
      {allLabel && (
        <label className="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> {allLabel}
        </label>
      )}
      {error && <pre className="error-box">{error}</pre>}
      {!preview && !error && <div className="loading">Working out what would go…</div>}
      {preview && (
        <div className="prune-preview" data-prune-preview={kind}>
          <p>
            <strong>{n === 0 ? 'Nothing would be deleted.' : `${n} item${n === 1 ? '' : 's'} would be deleted, freeing ${formatBytes(preview.size)}:`}</strong>
          </p>
          {n > 0 && (
            <ul className="plain-list prune-items">
              {preview.items.slice(0, 200).map((i) => (
                <li key={i.id} data-prune-item={i.name}>
                  <span className="mono">{i.name}</span> <span className="muted">{formatBytes(i.size)}</span>
                </li>
              ))}
              {n > 200 && <li className="muted">and {n - 200} more</li>}
            </ul>
          )}
        </div>
      )}
    </Dialog>
  );
}

export function DiskUsagePage() {
  const [df, setDf] = useState<DiskUsage | null>(null);
  const [error, setError] = useState<string>();
  const [pruning, setPruning] = useState<(typeof KINDS)[number] | null>(null);
  const [networksPrune, setNetworksPrune] = useState(false);
  // Any change to the lists (a prune here, a docker rm elsewhere) refreshes the totals.
  const version = useModel((s) => `${s.containers.size}:${s.images.size}:${s.volumes.size}:${[...s.containers.values()].filter((c) => c.state === 'running').length}`);
  const load = useCallback(() => {
    api()
      .call('system.df', { engineId: requireEngineId() })
      .then(
        (d) => {
          setDf(d);
          setError(undefined);
        },
        (e) => setError(errorText(e)),
      );
  }, []);
  useEffect(load, [load, version]);

  const total = df ? df.images.size + df.containers.size + df.volumes.size + df.buildCache.size : 0;
  const reclaim = df ? df.images.reclaimable + df.containers.reclaimable + df.volumes.reclaimable + df.buildCache.reclaimable : 0;
  return (
    <section className="page disk-page" aria-labelledby="disk-title">
      <div className="page-head">
        <h1 id="disk-title">Disk usage</h1>
        <div className="toolbar">
          <button onClick={load}>Refresh</button>
          <button onClick={() => setNetworksPrune(true)}>Prune networks…</button>
        </div>
      </div>
      {error && <pre className="error-box">{error}</pre>}
      {!df && !error && <div className="loading">Asking the engine (docker system df)…</div>}
      {df && (
        <>
          <p className="disk-total">
            <strong>{formatBytes(total)}</strong> in use, <strong>{formatBytes(reclaim)}</strong> reclaimable.
          </p>
          <div className="disk-cards">
            {KINDS.map((k) => {
              const d = df[k.key];
              const pct = d.size > 0 ? Math.round((d.reclaimable / d.size) * 100) : 0;
              return (
                <div key={k.kind} className="disk-card" data-disk-kind={k.kind}>
                  <h2>{k.title}</h2>
                  <dl>
                    <dt>Total</dt>
                    <dd data-total>{d.count}</dd>
                    <dt>Active</dt>
                    <dd data-active>{d.active}</dd>
                    <dt>Size</dt>
                    <dd data-size>{formatBytes(d.size)}</dd>
                    <dt>Reclaimable</dt>
                    <dd data-reclaimable>
                      {formatBytes(d.reclaimable)} ({pct}%)
                    </dd>
                  </dl>
                  <button onClick={() => setPruning(k)} aria-label={`Prune ${k.title.toLowerCase()}`}>
                    Prune…
                  </button>
                </div>
              );
            })}
          </div>
          <div className="disk-lists">
            <div>
              <h2>Largest images</h2>
              <ul className="plain-list">
                {df.imageItems.slice(0, 8).map((i) => (
                  <li key={i.id}>
                    <span className="mono">{i.name}</span> <span className="muted">{formatBytes(i.size)}{i.containers ? ` · ${i.containers} container${i.containers === 1 ? '' : 's'}` : ' · unused'}</span>
                  </li>
                ))}
                {df.imageItems.length === 0 && <li className="muted">none</li>}
              </ul>
            </div>
            <div>
              <h2>Largest volumes</h2>
              <ul className="plain-list">
                {df.volumeItems.slice(0, 8).map((v) => (
                  <li key={v.name}>
                    <span className="mono">{v.name}</span> <span className="muted">{v.size < 0 ? '—' : formatBytes(v.size)}{v.refCount === 0 ? ' · unused' : ''}</span>
                  </li>
                ))}
                {df.volumeItems.length === 0 && <li className="muted">none</li>}
              </ul>
            </div>
          </div>
        </>
      )}
      {pruning && <PruneDialog kind={pruning.kind} title={pruning.title} what={pruning.what} allLabel={pruning.allLabel} onClose={() => setPruning(null)} onDone={load} />}
      {networksPrune && <PruneDialog kind="networks" title="Networks" what="networks no container uses (never bridge, host or none)" allLabel={undefined} onClose={() => setNetworksPrune(false)} onDone={load} />}
    </section>
  );
}
