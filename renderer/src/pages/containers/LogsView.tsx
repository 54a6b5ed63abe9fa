/**
 * The Logs view: xterm.js showing the last N lines and following new ones,
 * with timestamps, search (with a match count), clear, download, and older
 * lines paged in when the view is scrolled to the top. Every written chunk is
 * acknowledged so the backend pauses a container that logs faster than the
 * view can draw.
 *
 * Follow off means the view holds still: new lines wait (unacknowledged, so
 * the backend stops reading beyond its window) and are drawn when Follow is
 * turned back on. Searching turns Follow off, so a match never scrolls away.
 *
 * The same view shows one container or a whole compose project (one stream
 * with a service column, from projects.logs).
 *
 * Layout rule: xterm clears its selection (a search match) whenever the terminal's row count
 * changes, and the terminal takes the height the toolbar leaves. So the toolbar's texts that
 * change while the view is open (match count, stream status, log size) sit in boxes of fixed
 * width: a text appearing or growing never re-wraps the toolbar; only the window's size does.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon, type ISearchOptions } from '@xterm/addon-search';
import type { StreamHandle } from '../../../../electron/contract/client.js';
import { api } from '../../api/client.js';
import { requireEngineId } from '../../stores/session.js';
import { useModel } from '../../stores/model.js';
import { errorText, toast } from '../../stores/ui.js';
import { terminalTheme } from '../../theme.js';
import { downloadBlob } from '../../components/common.js';
import { LogBuffer } from './log-buffer.js';
import { formatBytes } from '../../lib/format.js';

/** Lines kept in the view; older ones scroll out (memory stays bounded). */
export const LOG_SCROLLBACK = 20_000;
const TAILS = [100, 1000, 5000, 10_000] as const;
const WRITE_SLICE = 8 * 1024;

export type LogSource = { kind: 'container'; id: string } | { kind: 'project'; name: string };

type Status = 'loading' | 'live' | 'ended' | 'error';

type LogEvent = { type: 'data'; data: string; bytes: number } | { type: 'caught-up'; firstTime?: string; firstCount?: number };

function searchOptions(): ISearchOptions {
  const dark = document.documentElement.dataset.theme === 'dark';
  return {
    decorations: {
      matchBackground: dark ? '#5a4a00' : '#fff1a8',
      matchOverviewRuler: '#d4a400',
      activeMatchBackground: dark ? '#b36b00' : '#ffb340',
      activeMatchColorOverviewRuler: '#ff8c00',
    },
  };
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

export function LogsView({ source, name }: { source: LogSource; name: string }) {
  const sourceKey = source.kind === 'container' ? `c:${source.id}` : `p:${source.name}`;
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const searchRef = useRef<SearchAddon | null>(null);
  const bufferRef = useRef<LogBuffer>(new LogBuffer(LOG_SCROLLBACK));
  const olderRef = useRef<{ loading: boolean; exhausted: boolean }>({ loading: false, exhausted: source.kind !== 'container' });
  const [tail, setTail] = useState<number>(1000);
  const [follow, setFollow] = useState(true);
  const [timestamps, setTimestamps] = useState(false);
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<{ index: number; count: number } | null>(null);
  const [status, setStatus] = useState<Status>('loading');
  const [error, setError] = useState<string>();
  const [olderState, setOlderState] = useState<'idle' | 'loading' | 'none'>(source.kind === 'container' ? 'idle' : 'none');
  const [held, setHeld] = useState(0);
  const [generation, setGeneration] = useState(0);
  /** Set when older lines pushed the newest out: live lines are not drawn until the view is reset. */
  const detachedRef = useRef(false);
  /** While the view is redrawn its scroll position passes the top; that must not page in more. */
  const redrawingRef = useRef(false);
  const followRef = useRef(follow);
  followRef.current = follow;
  /** Data received while Follow is off, drawn (and acknowledged) when it is turned back on. */
  const heldRef = useRef<Array<{ data: string; bytes: number }>>([]);
  const writeRef = useRef<(data: string, bytes: number) => void>(() => undefined);

  const loadOlder = useCallback(() => {
    const term = termRef.current;
    const buf = bufferRef.current;
    const o = olderRef.current;
    if (source.kind !== 'container' || !term || o.loading || o.exhausted || !buf.firstTime) return;
    o.loading = true;
    setOlderState('loading');
    let text = '';
    let first: string | undefined;
    let firstCount = 0;
    api().open(
      'containers.logs',
      { engineId: requireEngineId(), id: source.id, tail, until: buf.firstTime, haveAtUntil: buf.firstCount, timestamps, follow: false },
      {
        onEvent: (e) => {
          if (e.type === 'data') text += e.data;
          else {
            first = e.firstTime;
            firstCount = e.firstCount ?? 0;
          }
        },
        onEnd: (err) => {
          o.loading = false;
          if (err) {
            setOlderState('idle');
            toast('error', `Could not load older lines: ${err.message}`);
            return;
          }
          if (!text || !first) {
            o.exhausted = true;
            setOlderState('none');
            return;
          }
          const { added, droppedNewest } = buf.prepend(text, first, firstCount);
          if (droppedNewest) {
            // The view is now a window into history: stop following until Follow is turned back on.
            detachedRef.current = true;
            setFollow(false);
          }
          // xterm cannot insert above its buffer: redraw everything, then keep the reader where the new lines end.
          redrawingRef.current = true;
          term.reset();
          term.write(buf.text(), () => {
            term.scrollToLine(Math.max(0, added - 1));
            redrawingRef.current = false;
          });
          // A short page means the start of the log was reached.
          if (added < tail) {
            o.exhausted = true;
            setOlderState('none');
          } else setOlderState('idle');
        },
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sourceKey, tail, timestamps]);

  useEffect(() => {
    const host = hostRef.current!;
    const term = new Terminal({
      convertEol: true,
      disableStdin: true,
      scrollback: LOG_SCROLLBACK,
      fontSize: 13,
      fontFamily: 'ui-monospace, Menlo, Consolas, monospace',
      theme: terminalTheme(),
      cursorStyle: 'bar',
      cursorInactiveStyle: 'none',
      allowProposedApi: true,
    });
    const fit = new FitAddon();
    const search = new SearchAddon();
    term.loadAddon(fit);
    term.loadAddon(search);
    term.open(host);
    Object.defineProperty(host, 'berthTerminal', { value: term, configurable: true });
    termRef.current = term;
    searchRef.current = search;
    const resultsSub = search.onDidChangeResults((r) => setResults(r.resultCount === 0 ? { index: -1, count: 0 } : { index: r.resultIndex, count: r.resultCount }));
    const safeFit = () => {
      if (host.clientWidth > 0 && host.clientHeight > 0) fit.fit();
    };
    safeFit();
    const ro = new ResizeObserver(safeFit);
    ro.observe(host);

    const buf = new LogBuffer(LOG_SCROLLBACK);
    bufferRef.current = buf;
    detachedRef.current = false;
    heldRef.current = [];
    setHeld(0);
    olderRef.current = { loading: false, exhausted: source.kind !== 'container' };
    setOlderState(source.kind === 'container' ? 'idle' : 'none');
    setStatus('loading');
    setError(undefined);
    setResults(null);

    let acked = 0;
    let handle: StreamHandle<'containers.logs'> | StreamHandle<'projects.logs'> | undefined;
    const ack = (bytes: number) => {
      acked += bytes;
      handle?.send({ ack: acked });
    };
    const write = (data: string, bytes: number) => {
      if (buf.append(data)) olderRef.current.exhausted = true;
      // Smaller writes let xterm.js yield between them, so a burst never holds the main thread long.
      for (let i = 0; i < data.length; i += WRITE_SLICE) {
        const last = i + WRITE_SLICE >= data.length;
        term.write(
          data.slice(i, i + WRITE_SLICE),
          last
            ? () => {
                ack(bytes);
                const b = term.buffer.active;
                if (followRef.current && b.viewportY !== b.baseY) term.scrollToBottom();
              }
            : undefined,
        );
      }
    };
    writeRef.current = write;
    const onEvent = (e: LogEvent) => {
      if (e.type === 'caught-up') {
        if (e.firstTime) {
          buf.firstTime = e.firstTime;
          buf.firstCount = e.firstCount ?? 0;
        } else olderRef.current.exhausted = true;
        setStatus('live');
        return;
      }
      if (detachedRef.current) {
        ack(e.bytes);
        return;
      }
      // Follow off: hold still; the lines wait (the backend pauses once its window is full).
      if (!followRef.current) {
        heldRef.current.push({ data: e.data, bytes: e.bytes });
        setHeld((n) => n + countNewlines(e.data));
        return;
      }
      write(e.data, e.bytes);
    };
    const onEnd = (err?: { message: string }) => {
      if (err) {
        setStatus('error');
        setError(err.message);
      } else setStatus('ended');
    };
    const engineId = requireEngineId();
    handle =
      source.kind === 'container'
        ? api().open('containers.logs', { engineId, id: source.id, tail, timestamps, follow: true }, { onEvent, onEnd })
        : api().open('projects.logs', { engineId, project: source.name, tail, timestamps, follow: true }, { onEvent, onEnd });

    // Scrolling up at the top asks for older lines (the wheel does not fire xterm's scroll event at 0).
    const onWheel = (ev: WheelEvent) => {
      if (ev.deltaY < 0 && term.buffer.active.viewportY === 0 && !redrawingRef.current) loadOlderRef.current();
    };
    host.addEventListener('wheel', onWheel, { passive: true });
    let lastY = 0;
    const scrollSub = term.onScroll((y) => {
      // Only a reader scrolling up to the top asks for more (not redraws or new output).
      if (y === 0 && lastY > 0 && !redrawingRef.current) loadOlderRef.current();
      lastY = y;
    });
    return () => {
      handle?.close();
      handle = undefined;
      scrollSub.dispose();
      resultsSub.dispose();
      host.removeEventListener('wheel', onWheel);
      ro.disconnect();
      term.dispose();
      termRef.current = null;
      writeRef.current = () => undefined;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sourceKey, tail, timestamps, generation]);

  const loadOlderRef = useRef(loadOlder);
  loadOlderRef.current = loadOlder;

  const setFollowing = (on: boolean) => {
    setFollow(on);
    followRef.current = on;
    if (!on) return;
    if (detachedRef.current) {
      setGeneration((g) => g + 1);
      return;
    }
    // Draw what waited, then follow again.
    const waiting = heldRef.current;
    heldRef.current = [];
    setHeld(0);
    for (const h of waiting) writeRef.current(h.data, h.bytes);
    termRef.current?.scrollToBottom();
  };

  const find = (backwards = false) => {
    if (!query) return;
    // A match must stay where it is while it is read.
    if (followRef.current) setFollowing(false);
    const found = backwards ? searchRef.current?.findPrevious(query, searchOptions()) : searchRef.current?.findNext(query, searchOptions());
    if (!found) setResults({ index: -1, count: 0 });
  };

  const download = () => {
    const parts: string[] = [];
    const engineId = requireEngineId();
    const callbacks = {
      onEvent: (e: LogEvent) => {
        if (e.type === 'data') parts.push(e.data);
      },
      onEnd: (err?: { message: string }) => {
        if (err) toast('error', `Could not download the logs: ${errorText(err)}`);
        else downloadBlob(`${name}.log`, parts, 'text/plain');
      },
    };
    if (source.kind === 'container') api().open('containers.logs', { engineId, id: source.id, tail: 'all', timestamps, follow: false }, callbacks);
    else api().open('projects.logs', { engineId, project: source.name, tail: 100_000, timestamps, follow: false, color: false }, callbacks);
  };

  return (
    <div className="logs-view" data-follow={follow}>
      <div className="toolbar">
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollowing(e.target.checked)} /> Follow
        </label>
        <label className="inline">
          Tail
          <select aria-label="Lines to show" value={tail} onChange={(e) => setTail(Number(e.target.value))}>
            {TAILS.map((t) => (
              <option key={t} value={t}>
                {t.toLocaleString()}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={timestamps} onChange={(e) => setTimestamps(e.target.checked)} /> Timestamps
        </label>
        <span className="search-group">
          <input
            type="search"
            data-search
            aria-label="Search logs"
            placeholder="Search logs"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setResults(null);
              if (!e.target.value) searchRef.current?.clearDecorations();
            }}
            onKeyDown={(e) => e.key === 'Enter' && find(e.shiftKey)}
          />
          <span className="search-count muted" data-search-results aria-live="polite">
            {results === null ? '' : results.count === 0 ? 'No matches' : `${results.index + 1} of ${results.count}`}
          </span>
          <button onClick={() => find(true)} aria-label="Previous match" title="Previous match (Shift+Enter)">
            ↑
          </button>
          <button onClick={() => find(false)} aria-label="Next match" title="Next match (Enter)">
            ↓
          </button>
        </span>
        {source.kind === 'container' && (
          <button onClick={loadOlder} disabled={olderState !== 'idle'}>
            {olderState === 'loading' ? 'Loading…' : olderState === 'none' ? 'No older lines' : 'Load older'}
          </button>
        )}
        <button
          onClick={() => {
            termRef.current?.clear();
            bufferRef.current.clear();
            olderRef.current.exhausted = true;
            setOlderState('none');
          }}
        >
          Clear
        </button>
        <button onClick={download}>Download</button>
        {source.kind === 'container' && <LogDiskSize id={source.id} />}
        <span className={`stream-status ${status}${!follow && status === 'live' ? ' held' : ''}`} data-log-status={status}>
          {status === 'live' ? (follow ? '● live' : held ? `paused · ${held} new line${held === 1 ? '' : 's'}` : 'paused') : status === 'loading' ? 'loading…' : status === 'error' ? `error: ${error}` : 'ended'}
        </span>
      </div>
      <div ref={hostRef} className="term-host" data-logs-terminal />
    </div>
  );
}

const LOG_SIZE_POLL_MS = 5000;

/**
 * How much disk the container's log files take (docker inspect's LogSize: the live file and the
 * kept rotated ones). No stream reports it: it is read when the view opens or the container's
 * state changes, and every 5 s only while the container runs (a stopped one's log does not grow).
 */
function LogDiskSize({ id }: { id: string }) {
  const [size, setSize] = useState<number>();
  const state = useModel((s) => s.containers.get(id)?.state);
  useEffect(() => {
    let stopped = false;
    const load = () =>
      api()
        .call('containers.inspect', { engineId: requireEngineId(), id })
        .then((info) => !stopped && setSize(typeof info.LogSize === 'number' ? info.LogSize : undefined))
        .catch(() => undefined);
    void load();
    const timer = state === 'running' ? setInterval(load, LOG_SIZE_POLL_MS) : undefined;
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
    };
  }, [id, state]);
  // Rendered from the start, empty until known, in its fixed-width box (see the layout rule above).
  return (
    <span className="muted log-size" data-log-size={size} title="Disk used by this container's log files (rotated ones included)">
      {size === undefined ? '' : `${formatBytes(size)} on disk`}
    </span>
  );
}
