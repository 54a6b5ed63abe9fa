/**
 * The Logs tab: xterm.js showing the last N lines and following new ones,
 * with timestamps, search, clear, download, and older lines paged in when the
 * view is scrolled to the top. Every written chunk is acknowledged so the
 * backend pauses a container that logs faster than the view can draw.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import type { StreamHandle } from '../../../../electron/contract/client.js';
import { api } from '../../api/client.js';
import { requireEngineId } from '../../stores/session.js';
import { errorText, toast } from '../../stores/ui.js';
import { terminalTheme } from '../../theme.js';
import { downloadBlob } from '../../components/common.js';
import { LogBuffer } from './log-buffer.js';

/** Lines kept in the view; older ones scroll out (memory stays bounded). */
export const LOG_SCROLLBACK = 20_000;
const TAILS = [100, 1000, 5000, 10_000] as const;
const WRITE_SLICE = 8 * 1024;

type Status = 'loading' | 'live' | 'ended' | 'error';

export function LogsView({ containerId, name }: { containerId: string; name: string }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const searchRef = useRef<SearchAddon | null>(null);
  const bufferRef = useRef<LogBuffer>(new LogBuffer(LOG_SCROLLBACK));
  const olderRef = useRef<{ loading: boolean; exhausted: boolean }>({ loading: false, exhausted: false });
  const [tail, setTail] = useState<number>(1000);
  const [follow, setFollow] = useState(true);
  const [timestamps, setTimestamps] = useState(false);
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<Status>('loading');
  const [error, setError] = useState<string>();
  const [olderState, setOlderState] = useState<'idle' | 'loading' | 'none'>('idle');
  const [generation, setGeneration] = useState(0);
  /** Set when older lines pushed the newest out: live lines are not drawn until the view is reset. */
  const detachedRef = useRef(false);
  /** While the view is redrawn its scroll position passes the top; that must not page in more. */
  const redrawingRef = useRef(false);
  const followRef = useRef(follow);
  followRef.current = follow;

  const loadOlder = useCallback(() => {
    const term = termRef.current;
    const buf = bufferRef.current;
    const o = olderRef.current;
    if (!term || o.loading || o.exhausted || !buf.firstTime) return;
    o.loading = true;
    setOlderState('loading');
    let text = '';
    let first: string | undefined;
    let firstCount = 0;
    api().open(
      'containers.logs',
      { engineId: requireEngineId(), id: containerId, tail, until: buf.firstTime, haveAtUntil: buf.firstCount, timestamps, follow: false },
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
  }, [containerId, tail, timestamps]);

  useEffect(() => {
    const host = hostRef.current!;
    const term = new Terminal({ convertEol: true, disableStdin: true, scrollback: LOG_SCROLLBACK, fontSize: 13, fontFamily: 'ui-monospace, Menlo, Consolas, monospace', theme: terminalTheme(), cursorStyle: 'bar', cursorInactiveStyle: 'none' });
    const fit = new FitAddon();
    const search = new SearchAddon();
    term.loadAddon(fit);
    term.loadAddon(search);
    term.open(host);
    Object.defineProperty(host, 'berthTerminal', { value: term, configurable: true });
    termRef.current = term;
    searchRef.current = search;
    const safeFit = () => {
      if (host.clientWidth > 0 && host.clientHeight > 0) fit.fit();
    };
    safeFit();
    const ro = new ResizeObserver(safeFit);
    ro.observe(host);

    const buf = new LogBuffer(LOG_SCROLLBACK);
    bufferRef.current = buf;
    detachedRef.current = false;
    olderRef.current = { loading: false, exhausted: false };
    setOlderState('idle');
    setStatus('loading');
    setError(undefined);

    let acked = 0;
    let handle: StreamHandle<'containers.logs'> | undefined;
    handle = api().open(
      'containers.logs',
      { engineId: requireEngineId(), id: containerId, tail, timestamps, follow: true },
      {
        onEvent: (e) => {
          if (e.type === 'caught-up') {
            if (e.firstTime) {
              buf.firstTime = e.firstTime;
              buf.firstCount = e.firstCount ?? 0;
            } else olderRef.current.exhausted = true;
            setStatus('live');
            return;
          }
          if (detachedRef.current) {
            acked += e.bytes;
            handle?.send({ ack: acked });
            return;
          }
          if (buf.append(e.data)) olderRef.current.exhausted = true;
          // Smaller writes let xterm.js yield between them, so a burst never holds the main thread long.
          for (let i = 0; i < e.data.length; i += WRITE_SLICE) {
            const last = i + WRITE_SLICE >= e.data.length;
            term.write(
              e.data.slice(i, i + WRITE_SLICE),
              last
                ? () => {
                    acked += e.bytes;
                    handle?.send({ ack: acked });
                    const b = term.buffer.active;
                    if (followRef.current && b.viewportY !== b.baseY) term.scrollToBottom();
                  }
                : undefined,
            );
          }
        },
        onEnd: (err) => {
          if (err) {
            setStatus('error');
            setError(err.message);
          } else setStatus('ended');
        },
      },
    );

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
      host.removeEventListener('wheel', onWheel);
      ro.disconnect();
      term.dispose();
      termRef.current = null;
    };
  }, [containerId, tail, timestamps, generation]);

  const loadOlderRef = useRef(loadOlder);
  loadOlderRef.current = loadOlder;

  const find = (backwards = false) => {
    if (!query) return;
    const found = backwards ? searchRef.current?.findPrevious(query) : searchRef.current?.findNext(query);
    if (!found) toast('info', `"${query}" not found in the loaded lines`);
  };

  const download = () => {
    const parts: string[] = [];
    api().open(
      'containers.logs',
      { engineId: requireEngineId(), id: containerId, tail: 'all', timestamps, follow: false },
      {
        onEvent: (e) => {
          if (e.type === 'data') parts.push(e.data);
        },
        onEnd: (err) => {
          if (err) toast('error', `Could not download the logs: ${errorText(err)}`);
          else downloadBlob(`${name}.log`, parts, 'text/plain');
        },
      },
    );
  };

  return (
    <div className="logs-view">
      <div className="toolbar">
        <label className="check">
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => {
              setFollow(e.target.checked);
              if (e.target.checked && detachedRef.current) setGeneration((g) => g + 1);
              else if (e.target.checked) termRef.current?.scrollToBottom();
            }}
          />{' '}
          Follow
        </label>
        <label>
          Tail{' '}
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
        <input
          type="search"
          data-search
          aria-label="Search logs"
          placeholder="Search logs"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && find(e.shiftKey)}
        />
        <button onClick={() => find(true)} aria-label="Previous match">
          ↑
        </button>
        <button onClick={() => find(false)} aria-label="Next match">
          ↓
        </button>
        <button onClick={loadOlder} disabled={olderState !== 'idle'}>
          {olderState === 'loading' ? 'Loading…' : olderState === 'none' ? 'No older lines' : 'Load older'}
        </button>
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
        <span className={`stream-status ${status}`} data-log-status={status}>
          {status === 'live' ? '● live' : status === 'loading' ? 'loading…' : status === 'error' ? `error: ${error}` : 'ended'}
        </span>
      </div>
      <div ref={hostRef} className="term-host" data-logs-terminal />
    </div>
  );
}
