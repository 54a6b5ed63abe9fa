/** One volume: where it lives, who uses it, its files; export to a tar, import a tar, clone. */
import { useRef, useState } from 'react';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId, useSession } from '../../stores/session.js';
import { errorText, navigate, toast } from '../../stores/ui.js';
import { formatBytes } from '../../lib/format.js';
import { FormDialog } from '../../components/Dialog.js';
import { Icon } from '../../components/Icon.js';
import { FileBrowser } from '../containers/FilesView.js';
import { downloadFiles, uploadBlob } from '../containers/archive.js';

export function CloneVolumeDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const [target, setTarget] = useState(`${name}-copy`);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await api().call('volumes.clone', { engineId: requireEngineId(), name, target: target.trim() });
      toast('success', `Cloned ${name} to ${r.name}`);
      onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <FormDialog title={`Clone ${name}`} submitLabel={busy ? 'Cloning…' : 'Clone'} canSubmit={!busy && target.trim() !== ''} onSubmit={() => void submit()} onClose={onClose} error={error}>
      <label className="field">
        Name of the new volume
        <input value={target} onChange={(e) => setTarget(e.target.value)} aria-label="New volume name" />
      </label>
    </FormDialog>
  );
}

export function VolumeDetail({ name, path }: { name: string; path: string }) {
  const v = useModel((s) => s.volumes.get(name));
  const users = useModel((s) => [...s.containers.values()].filter((c) => c.volumes.includes(name)).map((c) => c.name).join(', '));
  const engineId = useSession((s) => s.activeId);
  const [cloning, setCloning] = useState(false);
  const [importing, setImporting] = useState<{ sent: number; total: number } | null>(null);
  const [refresh, setRefresh] = useState(0);
  const tarInput = useRef<HTMLInputElement>(null);
  const target = { kind: 'volume' as const, name };

  const importTar = async (file: File | undefined) => {
    if (!file || !engineId) return;
    setImporting({ sent: 0, total: file.size });
    try {
      await uploadBlob(engineId, target, '/', file, { kind: 'tar' }, (sent, total) => setImporting({ sent, total }));
      toast('success', `Imported ${file.name} into ${name}`);
      setRefresh((n) => n + 1);
    } catch (err) {
      toast('error', `Could not import ${file.name}: ${errorText(err)}`);
    } finally {
      setImporting(null);
      if (tarInput.current) tarInput.current.value = '';
    }
  };

  return (
    <section className="page" aria-labelledby="volume-title">
      <a href="#/volumes" className="back" onClick={(e) => (e.preventDefault(), navigate({ page: 'volumes' }))}>
        ← Volumes
      </a>
      <div className="page-head">
        <div>
          <h1 id="volume-title">{name}</h1>
          {v && (
            <p className="muted detail-facts">
              <span>{v.driver}</span>
              <span className="sep">·</span>
              <span className="mono">{v.mountpoint}</span>
              <span className="sep">·</span>
              <span>{users ? `used by ${users}` : 'unused'}</span>
            </p>
          )}
        </div>
        {engineId && (
          <div className="toolbar">
            <button onClick={() => downloadFiles(engineId, target, '/', true, `${name}.tar`)} title="The whole volume as a tar archive">
              <Icon name="download" /> Export…
            </button>
            <button onClick={() => tarInput.current?.click()} disabled={!!importing} title="Unpack a tar archive into the volume">
              <Icon name="upload" /> Import…
            </button>
            <input ref={tarInput} type="file" accept=".tar,application/x-tar" hidden aria-label="Tar archive to import" onChange={(e) => void importTar(e.target.files?.[0])} />
            <button onClick={() => setCloning(true)}>Clone…</button>
          </div>
        )}
      </div>
      {importing && (
        <div className="upload-progress" aria-live="polite">
          Importing… <progress max={importing.total || 1} value={importing.sent} aria-label="Import progress" /> {formatBytes(importing.sent)} / {formatBytes(importing.total)}
        </div>
      )}
      {engineId && (
        <FileBrowser
          path={path}
          refreshKey={String(refresh)}
          onPath={(p) => navigate({ page: 'volume', name, path: p })}
          target={target}
          list={(p) => api().call('volumes.listFiles', { engineId, name, path: p })}
          onDownload={(p, isDir) => downloadFiles(engineId, target, p, isDir)}
        />
      )}
      {cloning && <CloneVolumeDialog name={name} onClose={() => setCloning(false)} />}
    </section>
  );
}
