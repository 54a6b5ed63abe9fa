/** Pull (and push) with a progress bar per layer and the engine's error when it fails. */
import { useEffect, useRef, useState } from 'react';
import type { PullProgress } from '../../../../electron/contract/models.js';
import type { StreamHandle } from '../../../../electron/contract/client.js';
import type { SearchResult } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { requireEngineId } from '../../stores/session.js';
import { errorText, toast } from '../../stores/ui.js';
import { Dialog } from '../../components/Dialog.js';
import { formatBytes } from '../../lib/format.js';

export interface LayerProgress {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

export interface ProgressState {
  layers: LayerProgress[];
  messages: string[];
  error?: string;
  done: boolean;
  digest?: string;
}

export const initialProgress: ProgressState = { layers: [], messages: [], done: false };

/** Folds one progress event into the dialog's state (pure; unit-tested). */
export function reduceProgress(s: ProgressState, e: PullProgress): ProgressState {
  switch (e.type) {
    case 'layer': {
      const i = s.layers.findIndex((l) => l.id === e.id);
      const prev = i >= 0 ? s.layers[i] : undefined;
      const next: LayerProgress = { id: e.id, status: e.status };
      // Keep the last byte counts through "Download complete"/"Pull complete" so bars stay full.
      if (e.total !== undefined) {
        next.current = e.current ?? 0;
        next.total = e.total;
      } else if (prev?.total !== undefined && /complete|pushed|already exists|mounted/i.test(e.status)) {
        next.current = prev.total;
        next.total = prev.total;
      }
      const layers = [...s.layers];
      if (i >= 0) layers[i] = next;
      else layers.push(next);
      return { ...s, layers };
    }
    case 'status':
      return { ...s, messages: [...s.messages.slice(-20), e.status] };
    case 'error':
      return { ...s, error: e.message };
    case 'done':
      return { ...s, done: true, ...(e.digest ? { digest: e.digest } : {}) };
  }
}

export function ProgressList({ state }: { state: ProgressState }) {
  return (
    <div className="progress-list" aria-live="polite">
      {state.layers.map((l) => {
        const pct = l.total ? Math.min(100, Math.round(((l.current ?? 0) / l.total) * 100)) : /complete|exists|pushed|mounted/i.test(l.status) ? 100 : undefined;
        return (
          <div key={l.id} className="layer" data-layer={l.id}>
            <span className="mono">{l.id.slice(0, 12)}</span>
            <progress max={100} value={pct ?? undefined} aria-label={`Layer ${l.id.slice(0, 12)}`} />
            <span className="layer-status">
              {l.status}
              {l.total ? ` ${formatBytes(l.current ?? 0)} / ${formatBytes(l.total)}` : ''}
            </span>
          </div>
        );
      })}
      {state.messages.map((m, i) => (
        <div key={i} className="muted status-line">
          {m}
        </div>
      ))}
      {state.error && (
        <pre className="error-box" role="alert">
          {state.error}
        </pre>
      )}
      {state.done && !state.error && <div className="ok">Done{state.digest ? ` · ${state.digest}` : ''}</div>}
    </div>
  );
}

export function useProgressStream() {
  const [state, setState] = useState<ProgressState>(initialProgress);
  const [running, setRunning] = useState(false);
  const handle = useRef<StreamHandle<'images.pull'> | StreamHandle<'images.push'> | null>(null);
  useEffect(() => () => handle.current?.close(), []);
  const start = (kind: 'images.pull' | 'images.push', ref: string, onDone?: () => void) => {
    setState(initialProgress);
    setRunning(true);
    handle.current = api().open(
      kind,
      { engineId: requireEngineId(), ref },
      {
        onEvent: (e) => setState((s) => reduceProgress(s, e)),
        onEnd: (err) => {
          setRunning(false);
          handle.current = null;
          if (err) setState((s) => ({ ...s, error: s.error ?? err.message }));
          else onDone?.();
        },
      },
    );
  };
  const cancel = () => {
    handle.current?.close();
    handle.current = null;
    setRunning(false);
  };
  return { state, running, start, cancel };
}

/** The registry part of a search term ("127.0.0.1:5000/app" → "127.0.0.1:5000"), if it names one. */
export function registryOfTerm(term: string): string | undefined {
  const first = term.split('/')[0]!;
  return term.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
}

/** What to search for: the reference without its tag or digest. */
export function searchTermOf(ref: string): string {
  const r = ref.trim().split('@')[0]!;
  const slash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  return colon > slash ? r.slice(0, colon) : r;
}

/** `docker search` results for a term, as references ready to pull. */
function SearchResults({ term, onPick }: { term: string; onPick: (ref: string) => void }) {
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    setResults(null);
    setError(undefined);
    api()
      .call('images.search', { engineId: requireEngineId(), term, limit: 25 })
      .then(
        (r) => live && setResults(r),
        (e) => live && setError(errorText(e)),
      );
    return () => {
      live = false;
    };
  }, [term]);
  const host = registryOfTerm(term);
  const full = (name: string) => (host && !name.startsWith(`${host}/`) ? `${host}/${name}` : name);
  if (error) return <pre className="error-box">{error}</pre>;
  if (!results) return <div className="loading">Searching…</div>;
  if (results.length === 0) return <p className="muted">No repositories match "{term}".</p>;
  return (
    <ul className="search-results" aria-label="Search results">
      {results.map((r) => (
        <li key={r.name}>
          <button type="button" className="link" onClick={() => onPick(full(r.name))} data-search-result={full(r.name)}>
            {full(r.name)}
          </button>
          {r.official && <span className="badge blue">official</span>}
          <span className="muted"> ★ {r.stars}</span>
          {r.description && <span className="muted search-description"> — {r.description}</span>}
        </li>
      ))}
    </ul>
  );
}

export function PullDialog({ onClose, initialRef = '' }: { onClose: () => void; initialRef?: string }) {
  const [ref, setRef] = useState(initialRef);
  const [searching, setSearching] = useState<string | null>(null);
  const { state, running, start, cancel } = useProgressStream();
  const submit = () => {
    const r = ref.trim();
    if (!r) return;
    start('images.pull', r, () => toast('success', `Pulled ${r}`));
  };
  return (
    <Dialog
      title="Pull an image"
      onClose={() => {
        cancel();
        onClose();
      }}
      wide
      footer={
        <>
          <button onClick={onClose}>{state.done ? 'Close' : 'Cancel'}</button>
          <button className="primary" disabled={running || !ref.trim()} onClick={submit}>
            {running ? 'Pulling…' : 'Pull'}
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <div className="row-fields">
          <label className="field grow">
            Image
            <input autoFocus value={ref} onChange={(e) => setRef(e.target.value)} placeholder="registry.example.com:5000/team/app:1.2" aria-label="Image reference" disabled={running} />
          </label>
          <button type="button" className="align-end" disabled={running || !ref.trim()} onClick={() => setSearching(searchTermOf(ref))}>
            Search
          </button>
        </div>
      </form>
      {searching && !running && !state.done && (
        <SearchResults
          term={searching}
          onPick={(r) => {
            setRef(r);
            setSearching(null);
          }}
        />
      )}
      <ProgressList state={state} />
    </Dialog>
  );
}
