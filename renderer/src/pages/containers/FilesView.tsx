/**
 * A file browser over the archive API, for a container or a volume: folders
 * to walk into, files and folders to download, uploads, new folders, and small
 * text files edited in place. Renaming and deleting need the container to be
 * running (the archive API cannot remove anything), and are not offered for
 * volumes. Icons are the app's own SVGs (no emoji font needed).
 */
import { useEffect, useRef, useState } from 'react';
import type { FileEntry } from '../../../../electron/contract/models.js';
import { MAX_EDIT_BYTES, type FileTarget } from '../../../../electron/contract/api.js';
import { api } from '../../api/client.js';
import { requireEngineId } from '../../stores/session.js';
import { attempt, errorText, toast } from '../../stores/ui.js';
import { formatBytes } from '../../lib/format.js';
import { ConfirmDialog, Dialog, FormDialog } from '../../components/Dialog.js';
import { Icon } from '../../components/Icon.js';
import { base64ToText, textToBase64, uploadBlob } from './archive.js';

export interface FileBrowserProps {
  path: string;
  onPath: (p: string) => void;
  list: (path: string) => Promise<{ path: string; entries: FileEntry[]; truncated: boolean }>;
  onDownload?: (path: string, isDir: boolean) => void;
  /** Where changes go; without it the browser is read-only. */
  target?: FileTarget;
  /** A running container can also rename and delete. */
  running?: boolean;
  refreshKey?: string;
}

/** ls -l's mode column, with setuid/setgid/sticky (s/S, t/T). */
export function modeString(mode: number, type: FileEntry['type']): string {
  const t = type === 'dir' ? 'd' : type === 'symlink' ? 'l' : type === 'other' ? '?' : '-';
  const c = (bit: number, ch: string) => (mode & bit ? ch : '-');
  const special = (exec: number, flag: number, on: string, onNoExec: string) => (mode & flag ? (mode & exec ? on : onNoExec) : mode & exec ? 'x' : '-');
  return (
    t +
    c(0o400, 'r') +
    c(0o200, 'w') +
    special(0o100, 0o4000, 's', 'S') +
    c(0o040, 'r') +
    c(0o020, 'w') +
    special(0o010, 0o2000, 's', 'S') +
    c(0o004, 'r') +
    c(0o002, 'w') +
    special(0o001, 0o1000, 't', 'T')
  );
}

export function join(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

export function parent(dir: string): string {
  const parts = dir.split('/').filter(Boolean);
  parts.pop();
  return '/' + parts.join('/');
}

function EditDialog({ target, file, onClose, onSaved }: { target: FileTarget; file: string; onClose: () => void; onSaved: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const original = useRef<string>('');
  useEffect(() => {
    api()
      .call('files.read', { engineId: requireEngineId(), target, path: file })
      .then(
        (r) => {
          const t = base64ToText(r.content);
          if (t === undefined) setError(`${file} is not a text file: download it instead`);
          else {
            original.current = t;
            setText(t);
          }
        },
        (e) => setError(errorText(e)),
      );
  }, [target, file]);
  const save = async () => {
    if (text === null) return;
    setSaving(true);
    setError(undefined);
    try {
      await api().call('files.write', { engineId: requireEngineId(), target, path: file, content: textToBase64(text) });
      toast('success', `Saved ${file}`);
      onSaved();
      onClose();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Dialog
      title={`Edit ${file}`}
      wide
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={text === null || saving || text === original.current} onClick={() => void save()}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </>
      }
    >
      {text === null && !error && <div className="loading">Loading…</div>}
      {text !== null && <textarea className="file-editor mono" aria-label="File content" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} rows={20} />}
      {error && <pre className="error-box">{error}</pre>}
    </Dialog>
  );
}

function NameDialog({ title, label, initial, submitLabel, onSubmit, onClose }: { title: string; label: string; initial: string; submitLabel: string; onSubmit: (name: string) => Promise<void>; onClose: () => void }) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string>();
  const submit = async () => {
    try {
      await onSubmit(name.trim());
      onClose();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <FormDialog title={title} submitLabel={submitLabel} canSubmit={name.trim() !== '' && name.trim() !== initial} onSubmit={() => void submit()} onClose={onClose} error={error}>
      <label className="field">
        {label}
        <input autoFocus value={name} onChange={(e) => setName(e.target.value)} aria-label={label} />
      </label>
    </FormDialog>
  );
}

function EntryIcon({ type }: { type: FileEntry['type'] }) {
  return <Icon name={type === 'dir' ? 'folder' : type === 'symlink' ? 'symlink' : type === 'file' ? 'file' : 'other'} size={14} />;
}

export function FileBrowser({ path, onPath, list, onDownload, target, running, refreshKey }: FileBrowserProps) {
  const [state, setState] = useState<{ entries: FileEntry[]; truncated: boolean } | null>(null);
  const [error, setError] = useState<string>();
  const [reload, setReload] = useState(0);
  const [editing, setEditing] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<FileEntry | null>(null);
  const [deleting, setDeleting] = useState<FileEntry | null>(null);
  const [creating, setCreating] = useState(false);
  const [upload, setUpload] = useState<{ name: string; sent: number; total: number } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    let live = true;
    setState(null);
    setError(undefined);
    list(path).then(
      (r) => live && setState(r),
      (e) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path, refreshKey, reload]);
  const refresh = () => setReload((n) => n + 1);
  const crumbs = path.split('/').filter(Boolean);
  const canChange = !!target;
  const canRemove = target?.kind === 'container' && !!running;
  const whyNotRemove = target?.kind === 'volume' ? 'Renaming and deleting in a volume need a running container that mounts it' : 'Start the container to rename or delete (the archive API can only add files)';

  const onFiles = async (files: FileList | null) => {
    if (!files || !target) return;
    for (const f of [...files]) {
      setUpload({ name: f.name, sent: 0, total: f.size });
      try {
        await uploadBlob(requireEngineId(), target, path, f, { kind: 'file', name: f.name }, (sent, total) => setUpload({ name: f.name, sent, total }));
        toast('success', `Uploaded ${f.name} to ${path}`);
      } catch (err) {
        toast('error', `Could not upload ${f.name}: ${errorText(err)}`);
        break;
      }
    }
    setUpload(null);
    if (fileInput.current) fileInput.current.value = '';
    refresh();
  };

  return (
    <div className="files-view">
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          const v = String(new FormData(e.currentTarget).get('path') ?? '').trim();
          if (v.startsWith('/')) onPath(v.replace(/\/+$/, '') || '/');
        }}
      >
        <input key={path} name="path" defaultValue={path} aria-label="Go to path" className="mono path-input" />
        <button type="submit">Go</button>
        {canChange && (
          <>
            <button type="button" onClick={() => fileInput.current?.click()} disabled={!!upload}>
              <Icon name="upload" /> Upload…
            </button>
            <input ref={fileInput} type="file" multiple hidden aria-label="Files to upload" onChange={(e) => void onFiles(e.target.files)} />
            <button type="button" onClick={() => setCreating(true)}>
              <Icon name="plus" /> New folder
            </button>
          </>
        )}
        {onDownload && (
          <button type="button" onClick={() => onDownload(path, true)}>
            <Icon name="download" /> Download folder
          </button>
        )}
      </form>
      <nav className="crumbs" aria-label="Path">
        <button onClick={() => onPath('/')}>/</button>
        {crumbs.map((c, i) => (
          <span key={i}>
            <button onClick={() => onPath('/' + crumbs.slice(0, i + 1).join('/'))}>{c}</button>/
          </span>
        ))}
      </nav>
      {upload && (
        <div className="upload-progress" aria-live="polite">
          Uploading {upload.name}… <progress max={upload.total || 1} value={upload.sent} aria-label={`Uploading ${upload.name}`} /> {formatBytes(upload.sent)} / {formatBytes(upload.total)}
        </div>
      )}
      {error && <pre className="error-box">{error}</pre>}
      {!state && !error && <div className="loading">Loading…</div>}
      {state && (
        <div className="files-scroll">
          <table className="simple files-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Size</th>
                <th>Mode</th>
                <th className="hide-narrow">Modified</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {path !== '/' && (
                <tr>
                  <td colSpan={5}>
                    <button className="link" onClick={() => onPath(parent(path))}>
                      ..
                    </button>
                  </td>
                </tr>
              )}
              {state.entries.map((e) => {
                const full = join(path, e.name);
                return (
                  <tr key={e.name} data-file={e.name}>
                    <td className="file-name">
                      {e.type === 'dir' ? (
                        <button className="link" onClick={() => onPath(full)}>
                          <EntryIcon type={e.type} /> {e.name}
                        </button>
                      ) : (
                        <span>
                          <EntryIcon type={e.type} /> {e.name}
                          {e.linkTarget && <span className="muted"> → {e.linkTarget}</span>}
                        </span>
                      )}
                    </td>
                    <td>{e.type === 'dir' ? '' : formatBytes(e.size)}</td>
                    <td className="mono" data-mode>
                      {modeString(e.mode, e.type)}
                    </td>
                    <td className="hide-narrow">{e.mtime ? new Date(e.mtime).toLocaleString() : ''}</td>
                    <td className="actions-cell">
                      <div className="row-actions">
                      {canChange && e.type === 'file' && e.size <= MAX_EDIT_BYTES && (
                        <button className="small" onClick={() => setEditing(full)} aria-label={`Edit ${e.name}`} title="Edit">
                          <Icon name="edit" />
                        </button>
                      )}
                      {onDownload && (
                        <button className="small" onClick={() => onDownload(full, e.type === 'dir')} aria-label={`Download ${e.name}`} title="Download">
                          <Icon name="download" />
                        </button>
                      )}
                      {canChange && (
                        <>
                          <button className="small" disabled={!canRemove} onClick={() => setRenaming(e)} aria-label={`Rename ${e.name}`} title={canRemove ? 'Rename' : whyNotRemove}>
                            Rename
                          </button>
                          <button className="small danger" disabled={!canRemove} onClick={() => setDeleting(e)} aria-label={`Delete ${e.name}`} title={canRemove ? 'Delete' : whyNotRemove}>
                            <Icon name="trash" />
                          </button>
                        </>
                      )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {state?.truncated && <p className="muted">The folder is very large; only part of it is listed.</p>}
      {editing && target && <EditDialog target={target} file={editing} onClose={() => setEditing(null)} onSaved={refresh} />}
      {creating && target && (
        <NameDialog
          title={`New folder in ${path}`}
          label="Folder name"
          initial=""
          submitLabel="Create"
          onClose={() => setCreating(false)}
          onSubmit={async (name) => {
            await api().call('files.mkdir', { engineId: requireEngineId(), target, dir: path, name });
            toast('success', `Created ${join(path, name)}`);
            refresh();
          }}
        />
      )}
      {renaming && target && (
        <NameDialog
          title={`Rename ${renaming.name}`}
          label="New name"
          initial={renaming.name}
          submitLabel="Rename"
          onClose={() => setRenaming(null)}
          onSubmit={async (name) => {
            await api().call('files.rename', { engineId: requireEngineId(), target, path: join(path, renaming.name), name });
            toast('success', `Renamed ${renaming.name} to ${name}`);
            refresh();
          }}
        />
      )}
      {deleting && target && (
        <ConfirmDialog
          title={`Delete ${deleting.name}`}
          message={<p>{deleting.type === 'dir' ? `${join(path, deleting.name)} and everything in it will be deleted.` : `${join(path, deleting.name)} will be deleted.`}</p>}
          confirmLabel="Delete"
          danger
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            const victim = deleting;
            setDeleting(null);
            void attempt(`Could not delete ${victim.name}`, () => api().call('files.delete', { engineId: requireEngineId(), target, paths: [join(path, victim.name)] })).then((r) => {
              if (r) toast('success', `Deleted ${victim.name}`);
              refresh();
            });
          }}
        />
      )}
    </div>
  );
}
