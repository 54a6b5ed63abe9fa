/**
 * Settings → Berth VM: CPUs, memory, disk size and the folders shared into the VM (each read-write
 * or read-only). The backend checks a change with the VM's own rules (vm/host/resources.ts) before
 * storing it; a running VM keeps what it started with, so the page says which changes wait for a
 * restart (the engine's `vm.restartRequired`) and offers it.
 */
import { useEffect, useState } from 'react';
import type { EngineInfo, SharedFolder, VmSettings } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { useSession } from '../../stores/session.js';
import { errorText, toast } from '../../stores/ui.js';
import { engineAction } from '../engine/engine-actions.js';
import { VmAccelerator } from '../engine/VmStatus.js';

const str = (n: number | undefined) => (n === undefined ? '' : String(n));
/** '' is "the default"; anything else goes to the backend as typed (it says what is wrong). */
const num = (s: string) => (s.trim() === '' ? undefined : Number(s.trim()));

export function VmSettingsForm({ engine, vm }: { engine: EngineInfo; vm: VmSettings | undefined }) {
  const caps = useSession((s) => s.capabilities);
  const [cpus, setCpus] = useState(str(vm?.cpus));
  const [memory, setMemory] = useState(str(vm?.memoryMiB));
  const [disk, setDisk] = useState(str(vm?.diskGiB));
  const [folders, setFolders] = useState<SharedFolder[] | undefined>(vm?.sharedFolders);
  const [sharing, setSharing] = useState<NonNullable<VmSettings['fileSharing']>>(vm?.fileSharing ?? 'auto');
  const [newFolder, setNewFolder] = useState('');
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  // Another window (or the CLI) changed them: show what is stored (by value: every settings change brings a new object).
  const stored = JSON.stringify(vm ?? {});
  useEffect(() => {
    setCpus(str(vm?.cpus));
    setMemory(str(vm?.memoryMiB));
    setDisk(str(vm?.diskGiB));
    setFolders(vm?.sharedFolders);
    setSharing(vm?.fileSharing ?? 'auto');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stored]);

  const running = engine.vm?.resources;
  const pending = engine.state === 'running' ? (engine.vm?.restartRequired ?? []) : [];
  const addFolder = (p: string) => {
    const path = p.trim();
    if (!path) return;
    setFolders([...(folders ?? []), { path }]);
    setNewFolder('');
  };
  const browse = async () => {
    try {
      const r = await api().call('host.pickFolder', { title: 'Share a folder with the Berth VM' });
      if (r.path) addFolder(r.path);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const save = async () => {
    setError(undefined);
    setSaving(true);
    const next: VmSettings = { ...(vm?.engine ? { engine: vm.engine } : {}) };
    const c = num(cpus);
    const m = num(memory);
    const d = num(disk);
    if (c !== undefined) next.cpus = c;
    if (m !== undefined) next.memoryMiB = m;
    if (d !== undefined) next.diskGiB = d;
    if (folders) next.sharedFolders = folders;
    if (sharing !== 'auto') next.fileSharing = sharing;
    try {
      await api().call('settings.update', { vm: next });
      toast('success', engine.state === 'running' ? 'Saved: they apply when the VM restarts' : 'Saved: the VM uses them at its next start');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      className="vm-settings"
      aria-label="Berth VM settings"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <p className="muted">
        {engine.name} is {engine.state}
        {running ? ` with ${running.cpus} CPU${running.cpus === 1 ? '' : 's'}, ${running.memoryMiB} MiB of memory and a ${running.diskGiB} GiB disk` : ''}. <VmAccelerator engine={engine} />
      </p>
      {pending.length > 0 && (
        <div className="notice" role="status" data-vm-restart-required>
          <span>
            Restart the VM to apply: <strong>{pending.join(', ')}</strong>. Running containers stop while it restarts.
          </span>
          <button type="button" className="primary" onClick={() => void engineAction(engine.id, 'restart')}>
            Restart VM
          </button>
        </div>
      )}
      <div className="row-fields">
        <label className="field">
          CPUs
          <input inputMode="numeric" value={cpus} onChange={(e) => setCpus(e.target.value)} placeholder="default" aria-label="VM CPUs" />
        </label>
        <label className="field">
          Memory (MiB)
          <input inputMode="numeric" value={memory} onChange={(e) => setMemory(e.target.value)} placeholder="default" aria-label="VM memory (MiB)" />
        </label>
        <label className="field">
          Disk size (GiB)
          <input inputMode="numeric" value={disk} onChange={(e) => setDisk(e.target.value)} placeholder="default" aria-label="VM disk size (GiB)" />
        </label>
      </div>
      <p className="muted small-text">Empty fields use the defaults (half the host's CPUs up to 4, a quarter of its memory up to 4 GiB, 64 GiB). The disk can grow, never shrink.</p>
      <h3>Shared folders</h3>
      <p className="muted small-text">Host folders the VM sees at the same path, so bind mounts work as on Linux. {folders === undefined ? 'Default: your home folder, read-write.' : ''}</p>
      {folders !== undefined && (
        <ul className="shared-folders" aria-label="Shared folders">
          {folders.length === 0 && <li className="muted">No folder is shared: bind mounts of host folders fail.</li>}
          {folders.map((f, i) => (
            <li key={`${f.path}-${i}`} data-shared-folder={f.path}>
              <span className="mono grow">{f.path}</span>
              <label className="check">
                <input type="checkbox" checked={!!f.readOnly} onChange={(e) => setFolders(folders.map((x, j) => (j === i ? { path: x.path, ...(e.target.checked ? { readOnly: true } : {}) } : x)))} aria-label={`${f.path} read-only`} /> Read-only
              </label>
              <button type="button" className="small danger" onClick={() => setFolders(folders.filter((_, j) => j !== i))} aria-label={`Remove ${f.path}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="row-fields">
        <label className="field grow">
          Add a folder
          <input
            value={newFolder}
            onChange={(e) => setNewFolder(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addFolder(newFolder);
              }
            }}
            placeholder="/home/me/projects"
            aria-label="Folder to share"
          />
        </label>
        <button type="button" onClick={() => addFolder(newFolder)} disabled={!newFolder.trim()}>
          Add
        </button>
        {caps?.pickFolder && (
          <button type="button" onClick={() => void browse()}>
            Browse…
          </button>
        )}
        {folders !== undefined && (
          <button type="button" onClick={() => setFolders(undefined)}>
            Use the default
          </button>
        )}
      </div>
      <label className="field">
        File sharing
        <select value={sharing} onChange={(e) => setSharing(e.target.value as typeof sharing)} aria-label="File sharing">
          <option value="auto">Automatic (virtiofs where this host can run it, else 9p)</option>
          <option value="virtiofs">virtiofs (Linux hosts, faster on many small files)</option>
          <option value="9p">9p (QEMU's own, no helper process)</option>
        </select>
      </label>
      {engine.vm?.fileSharingNote && <p className="muted small-text" data-vm-file-sharing>Now: {engine.vm.fileSharingNote}.</p>}
      {error && (
        <pre className="error-box" role="alert">
          {error}
        </pre>
      )}
      <button className="primary" type="submit" disabled={saving}>
        Save VM settings
      </button>
    </form>
  );
}
