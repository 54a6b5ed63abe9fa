/**
 * Builds: `docker build` from a folder — picked with the desktop's folder
 * dialog, typed as a path on the engine's host, or uploaded from the browser
 * — with a tag, build args, a target; the engine's output live in a
 * terminal, each step with its cache hit or duration; a history of builds
 * with the result one click from Run.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import type { StreamHandle } from '../../../../electron/contract/client.js';
import type { BuildRecord } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { requireEngineId, useSession } from '../../stores/session.js';
import { errorText, toast, useUi } from '../../stores/ui.js';
import { terminalTheme } from '../../theme.js';
import { shortId } from '../../lib/format.js';
import { makeTar, toBase64, type TarFile } from '../../lib/tar.js';
import { Empty } from '../../components/common.js';
import { DataTable } from '../../components/table/DataTable.js';
import type { Column } from '../../components/table/columns.js';
import { useSort } from '../../stores/views.js';

interface Step {
  index: number;
  instruction: string;
  cached?: boolean;
  durationMs?: number;
}

/** "KEY=value" lines (blank lines and # comments skipped). */
export function parseBuildArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`build arg "${line}" is not KEY=value`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const CHUNK = 1024 * 1024;

export function BuildsPage() {
  const canPick = useSession((s) => s.capabilities?.pickFolder ?? false);
  const [mode, setMode] = useState<'path' | 'upload'>('path');
  const [folder, setFolder] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [dockerfile, setDockerfile] = useState('');
  const [tag, setTag] = useState('');
  const [args, setArgs] = useState('');
  const [target, setTarget] = useState('');
  const [noCache, setNoCache] = useState(false);
  const [running, setRunning] = useState(false);
  const [steps, setSteps] = useState<Step[]>([]);
  const [result, setResult] = useState<BuildRecord>();
  const [history, setHistory] = useState<BuildRecord[]>([]);
  const [error, setError] = useState<string>();
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const handleRef = useRef<StreamHandle<'images.build'> | null>(null);

  const refresh = useCallback(() => {
    api()
      .call('builds.list', {})
      .then(setHistory, () => undefined);
  }, []);
  useEffect(refresh, [refresh]);

  useEffect(() => {
    const term = new Terminal({ convertEol: true, disableStdin: true, scrollback: 20_000, fontSize: 12, theme: terminalTheme() });
    const fit = new FitAddon();
    term.loadAddon(fit);
    if (hostRef.current) {
      term.open(hostRef.current);
      // The e2e tests read the log from the terminal itself, as they do for Logs and exec.
      Object.defineProperty(hostRef.current, 'berthTerminal', { value: term, configurable: true });
      try {
        fit.fit();
      } catch {
        /* not laid out yet */
      }
    }
    termRef.current = term;
    const onResize = () => {
      try {
        fit.fit();
      } catch {
        /* hidden */
      }
    };
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      handleRef.current?.close();
      term.dispose();
    };
  }, []);

  const pick = async () => {
    try {
      const r = await api().call('host.pickFolder', { title: 'Folder to build' });
      if (r.path) setFolder(r.path);
    } catch (err) {
      toast('error', errorText(err));
    }
  };

  const start = async () => {
    setError(undefined);
    let buildArgs: Record<string, string>;
    try {
      buildArgs = parseBuildArgs(args);
    } catch (err) {
      setError(errorText(err));
      return;
    }
    if (mode === 'path' && !folder.trim()) return setError('Choose the folder to build');
    if (mode === 'upload' && files.length === 0) return setError('Choose the folder to upload');
    let upload: Uint8Array | undefined;
    let uploadName = '';
    if (mode === 'upload') {
      // The folder itself is the context: its name is the first component of every relative path.
      const tarFiles: TarFile[] = [];
      for (const f of files) {
        const rel = (f.webkitRelativePath || f.name).split('/').slice(1).join('/') || f.name;
        tarFiles.push({ path: rel, data: new Uint8Array(await f.arrayBuffer()), mtime: f.lastModified / 1000 });
      }
      uploadName = (files[0]!.webkitRelativePath || files[0]!.name).split('/')[0] ?? 'upload';
      upload = makeTar(tarFiles);
    }
    const term = termRef.current;
    term?.reset();
    setSteps([]);
    setResult(undefined);
    setRunning(true);
    const request = {
      source: mode === 'path' ? { kind: 'path' as const, path: folder.trim() } : { kind: 'upload' as const, name: uploadName },
      dockerfile: dockerfile.trim(),
      tag: tag.trim(),
      buildArgs,
      target: target.trim(),
      noCache,
    };
    const handle = api().open(
      'images.build',
      { engineId: requireEngineId(), request },
      {
        onEvent: (e) => {
          switch (e.type) {
            case 'output':
              term?.write(e.text);
              break;
            case 'step':
              setSteps((s) => [...s, { index: e.index, instruction: e.instruction }]);
              break;
            case 'step-done':
              setSteps((s) => s.map((x) => (x.index === e.index ? { ...x, cached: e.cached, durationMs: e.durationMs } : x)));
              break;
            case 'done':
              setResult(e.record);
              if (e.record.status === 'succeeded') toast('success', `Built ${e.record.tag || shortId(e.record.imageId ?? '')}`);
              break;
          }
        },
        onEnd: (err) => {
          handleRef.current = null;
          setRunning(false);
          if (err) setError(errorText(err));
          refresh();
        },
      },
    );
    handleRef.current = handle;
    if (upload) {
      for (let off = 0; off < upload.length; off += CHUNK) handle.send({ type: 'chunk', data: toBase64(upload.subarray(off, off + CHUNK)) });
      handle.send({ type: 'end' });
    }
  };

  const cancel = () => {
    handleRef.current?.close();
    handleRef.current = null;
    setRunning(false);
    termRef.current?.write('\r\n\u001b[33mBuild cancelled\u001b[0m\r\n');
    setTimeout(refresh, 500);
  };

  const run = (r: BuildRecord) => useUi.setState({ runImage: r.tag || r.imageId || null });
  const [sort, setSort] = useSort('builds', { column: 'started', dir: 'desc' });
  const columns = useMemo<Column<BuildRecord>[]>(
    () => [
      {
        id: 'status',
        title: 'Status',
        width: '100px',
        sortValue: (r) => r.status,
        render: (r) => <span className={`badge ${r.status === 'succeeded' ? 'green' : r.status === 'failed' ? 'red' : ''}`}>{r.status}</span>,
      },
      { id: 'source', title: 'Source', width: 'minmax(140px, 2fr)', sortValue: (r) => r.source, render: (r) => r.source, cellTitle: (r) => (r.error ? `${r.source}: ${r.error}` : r.source) },
      { id: 'image', title: 'Image', width: 'minmax(110px, 1.5fr)', sortValue: (r) => r.tag || r.imageId, render: (r) => <span className="mono">{r.tag || (r.imageId ? shortId(r.imageId) : '—')}</span> },
      { id: 'duration', title: 'Duration', width: '90px', sortValue: (r) => r.durationMs, initialDir: 'desc', align: 'end', render: (r) => formatDuration(r.durationMs) },
      { id: 'cached', title: 'Cached steps', width: '100px', hideBelow: 760, sortValue: (r) => r.cachedSteps, initialDir: 'desc', align: 'end', render: (r) => `${r.cachedSteps}/${r.steps}` },
      { id: 'started', title: 'Started', width: 'minmax(140px, 1fr)', hideBelow: 640, sortValue: (r) => r.startedAt, initialDir: 'desc', render: (r) => new Date(r.startedAt).toLocaleString() },
      {
        id: 'actions',
        title: '',
        width: '70px',
        render: (r) => (
          <div className="row-actions">
            <button className="small" disabled={r.status !== 'succeeded'} onClick={() => run(r)} aria-label={`Run ${r.tag || r.imageId || r.id}`}>
              Run
            </button>
          </div>
        ),
      },
    ],
    [],
  );

  return (
    <section className="page builds-page" aria-labelledby="builds-title">
      <div className="page-head">
        <h1 id="builds-title">Builds</h1>
      </div>
      <form
        className="build-form"
        aria-label="Build an image"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <div className="row-fields">
          <label>
            <input type="radio" name="source" checked={mode === 'path'} onChange={() => setMode('path')} /> {canPick ? 'Folder' : 'Folder on the engine’s host'}
          </label>
          <label>
            <input type="radio" name="source" checked={mode === 'upload'} onChange={() => setMode('upload')} /> Upload a folder
          </label>
        </div>
        {mode === 'path' ? (
          <div className="row-fields">
            <input className="grow" value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/path/to/project" aria-label="Folder to build" />
            {canPick && (
              <button type="button" onClick={() => void pick()}>
                Choose folder…
              </button>
            )}
          </div>
        ) : (
          <div className="row-fields">
            <input
              type="file"
              aria-label="Folder to upload"
              multiple
              ref={(el) => {
                // A folder picker (not standard HTML; every browser Berth runs in has it).
                if (el) el.setAttribute('webkitdirectory', '');
              }}
              onChange={(e) => setFiles([...(e.target.files ?? [])])}
            />
            {files.length > 0 && <span className="muted">{files.length} files</span>}
          </div>
        )}
        <div className="row-fields">
          <label className="field grow">
            Tag
            <input value={tag} onChange={(e) => setTag(e.target.value)} placeholder="myapp:latest" aria-label="Tag" />
          </label>
          <label className="field">
            Dockerfile
            <input value={dockerfile} onChange={(e) => setDockerfile(e.target.value)} placeholder="Dockerfile" aria-label="Dockerfile" />
          </label>
          <label className="field">
            Target stage
            <input value={target} onChange={(e) => setTarget(e.target.value)} placeholder="(last)" aria-label="Target stage" />
          </label>
        </div>
        <label className="field">
          Build args (KEY=value, one per line)
          <textarea rows={2} value={args} onChange={(e) => setArgs(e.target.value)} aria-label="Build args" />
        </label>
        <div className="toolbar">
          <label>
            <input type="checkbox" checked={noCache} onChange={(e) => setNoCache(e.target.checked)} /> No cache
          </label>
          {running ? (
            <button type="button" className="danger" onClick={cancel}>
              Cancel
            </button>
          ) : (
            <button type="submit" className="primary">
              Build
            </button>
          )}
          {error && (
            <span className="error" role="alert">
              {error}
            </span>
          )}
        </div>
      </form>
      <div className="build-live">
        <div className="build-log" ref={hostRef} aria-label="Build output" />
        <ol className="build-steps" aria-label="Steps">
          {steps.map((s) => (
            <li key={s.index} data-step={s.index}>
              <span className="mono">{s.instruction}</span>{' '}
              {s.cached ? <span className="badge green">cached</span> : s.durationMs !== undefined ? <span className="muted">{formatDuration(s.durationMs)}</span> : <span className="muted">running…</span>}
            </li>
          ))}
        </ol>
      </div>
      {result && (
        <div className={`build-result ${result.status}`} role="status">
          {result.status === 'succeeded' ? (
            <>
              Built <span className="mono">{result.tag || shortId(result.imageId ?? '')}</span> in {formatDuration(result.durationMs)} ({result.cachedSteps} of {result.steps} steps cached){' '}
              <button className="small primary" onClick={() => run(result)}>
                Run
              </button>
            </>
          ) : (
            <>
              Build {result.status}: {result.error}
            </>
          )}
        </div>
      )}
      <h2>History</h2>
      <DataTable
        label="Build history"
        className="builds-table"
        columns={columns}
        rows={history}
        rowKey={(r) => r.id}
        sort={sort}
        onSort={setSort}
        rowAttrs={(r) => ({ 'data-build': r.id })}
        fitRows={12}
        empty={
          <Empty title="No builds yet">
            <p>Builds started here are listed with their result.</p>
          </Empty>
        }
      />
    </section>
  );
}
