/** A file browser over the archive API: folders to walk into, files and folders to download. */
import { useEffect, useState } from 'react';
import type { FileEntry } from '../../../../electron/contract/models.js';
import { errorText } from '../../stores/ui.js';
import { formatBytes } from '../../lib/format.js';

export interface FileBrowserProps {
  path: string;
  onPath: (p: string) => void;
  list: (path: string) => Promise<{ path: string; entries: FileEntry[]; truncated: boolean }>;
  onDownload?: (path: string, isDir: boolean) => void;
  refreshKey?: string;
}

function modeString(mode: number, type: FileEntry['type']): string {
  const t = type === 'dir' ? 'd' : type === 'symlink' ? 'l' : '-';
  const bits = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return t + s;
}

export function join(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

export function parent(dir: string): string {
  const parts = dir.split('/').filter(Boolean);
  parts.pop();
  return '/' + parts.join('/');
}

export function FileBrowser({ path, onPath, list, onDownload, refreshKey }: FileBrowserProps) {
  const [state, setState] = useState<{ entries: FileEntry[]; truncated: boolean } | null>(null);
  const [error, setError] = useState<string>();
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
  }, [path, refreshKey]);
  const crumbs = path.split('/').filter(Boolean);
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
        <input key={path} name="path" defaultValue={path} aria-label="Go to path" className="mono" size={40} />
        <button type="submit">Go</button>
      </form>
      <nav className="crumbs" aria-label="Path">
        <button onClick={() => onPath('/')}>/</button>
        {crumbs.map((c, i) => (
          <span key={i}>
            <button onClick={() => onPath('/' + crumbs.slice(0, i + 1).join('/'))}>{c}</button>/
          </span>
        ))}
        {onDownload && (
          <button className="small" onClick={() => onDownload(path, true)}>
            Download folder
          </button>
        )}
      </nav>
      {error && <pre className="error-box">{error}</pre>}
      {!state && !error && <div className="loading">Loading…</div>}
      {state && (
        <table className="simple files-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Size</th>
              <th>Mode</th>
              <th>Modified</th>
              {onDownload && <th />}
            </tr>
          </thead>
          <tbody>
            {path !== '/' && (
              <tr>
                <td colSpan={onDownload ? 5 : 4}>
                  <button className="link" onClick={() => onPath(parent(path))}>
                    ..
                  </button>
                </td>
              </tr>
            )}
            {state.entries.map((e) => (
              <tr key={e.name} data-file={e.name}>
                <td>
                  {e.type === 'dir' ? (
                    <button className="link" onClick={() => onPath(join(path, e.name))}>
                      📁 {e.name}
                    </button>
                  ) : (
                    <span>
                      {e.type === 'symlink' ? '🔗' : '📄'} {e.name}
                      {e.linkTarget && <span className="muted"> → {e.linkTarget}</span>}
                    </span>
                  )}
                </td>
                <td>{e.type === 'dir' ? '' : formatBytes(e.size)}</td>
                <td className="mono">{modeString(e.mode, e.type)}</td>
                <td>{e.mtime ? new Date(e.mtime).toLocaleString() : ''}</td>
                {onDownload && (
                  <td>
                    <button className="small" onClick={() => onDownload(join(path, e.name), e.type === 'dir')} aria-label={`Download ${e.name}`}>
                      Download
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {state?.truncated && <p className="muted">The folder is very large; only part of it is listed.</p>}
    </div>
  );
}
