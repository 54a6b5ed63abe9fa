/**
 * How the dashboard reaches the backend: the preload's API inside Electron,
 * or a WebSocket to `berth dashboard` (token from the page URL) in a browser.
 * The WebSocket reconnects with backoff after a drop; listeners learn about
 * every state change so the stores can reopen their streams.
 */
import type { ClientMessage, MessagePort, PreloadApi, ServerMessage } from '../../../electron/contract/protocol.js';
import { PRELOAD_GLOBAL } from '../../../electron/contract/protocol.js';

export type ConnectionState = 'connecting' | 'open' | 'closed';
/**
 * Why the dashboard is not connected: its server stopped (or the network dropped), or the
 * server answers but refuses this page's token — `berth dashboard` was restarted and printed a
 * new URL, so reconnecting with this one can never work.
 */
export type ConnectionProblem = 'server-gone' | 'token-refused';

export interface Transport extends MessagePort {
  readonly kind: 'ipc' | 'ws';
  state(): ConnectionState;
  /** Why the last connection closed, for the banner. */
  lastError(): string | undefined;
  problem(): ConnectionProblem | undefined;
  onState(listener: (s: ConnectionState) => void): () => void;
  dispose(): void;
}

export function preloadApi(): PreloadApi | undefined {
  return (window as unknown as Record<string, PreloadApi | undefined>)[PRELOAD_GLOBAL];
}

export function createTransport(): Transport {
  const api = preloadApi();
  return api ? ipcTransport(api) : wsTransport(window.location);
}

function ipcTransport(api: PreloadApi): Transport {
  return {
    kind: 'ipc',
    send: (m) => api.send(m),
    onMessage: (l) => api.onMessage(l),
    state: () => 'open',
    lastError: () => undefined,
    problem: () => undefined,
    onState: () => () => undefined,
    dispose: () => undefined,
  };
}

export function dashboardSocketUrl(loc: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/rpc?token=${encodeURIComponent(token)}`;
}

/** Asks the server whether this page's token is still good (a browser cannot see why a WebSocket upgrade failed). */
export async function checkSession(loc: Pick<Location, 'protocol' | 'host' | 'search'>): Promise<'ok' | ConnectionProblem> {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  try {
    const r = await fetch(`${loc.protocol}//${loc.host}/session?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
    return r.status === 401 ? 'token-refused' : 'ok';
  } catch {
    return 'server-gone';
  }
}

export const PROBLEM_TEXT: Record<ConnectionProblem, string> = {
  'server-gone': 'berth dashboard is not running (it was stopped, or its terminal closed). Start it again and open the URL it prints.',
  'token-refused': 'berth dashboard was restarted and no longer accepts this page: open the new URL it printed (it carries a new access token).',
};

function wsTransport(loc: Location): Transport {
  const listeners = new Set<(m: ServerMessage) => void>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let ws: WebSocket | undefined;
  let state: ConnectionState = 'connecting';
  let error: string | undefined;
  let problem: ConnectionProblem | undefined;
  let failures = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const setState = (s: ConnectionState) => {
    state = s;
    for (const l of stateListeners) l(s);
  };

  const connect = () => {
    if (disposed) return;
    setState('connecting');
    const socket = new WebSocket(dashboardSocketUrl(loc));
    ws = socket;
    socket.onopen = () => {
      failures = 0;
      error = undefined;
      problem = undefined;
      setState('open');
    };
    socket.onmessage = (ev) => {
      let m: ServerMessage;
      try {
        m = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      for (const l of listeners) l(m);
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = undefined;
      error = 'the connection to berth dashboard dropped';
      setState('closed');
      if (disposed) return;
      void checkSession(loc).then((verdict) => {
        if (disposed || ws) return;
        problem = verdict === 'ok' ? undefined : verdict;
        error = problem ? PROBLEM_TEXT[problem] : 'the connection to berth dashboard dropped; reconnecting';
        setState('closed');
        // A refused token never becomes valid again: stop trying, the page says what to do.
        if (problem === 'token-refused') return;
        // Reconnect only while disconnected; nothing runs once the socket is back. The server is
        // local (an attempt is one refused connect), so the wait stays short: a restarted
        // berth dashboard is noticed within about 2 s, not after a 10 s back-off.
        const delay = Math.min(2_000, 250 * 2 ** failures++);
        retry = setTimeout(connect, delay);
      });
    };
  };
  connect();

  return {
    kind: 'ws',
    send(m: ClientMessage) {
      if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error('not connected to berth dashboard');
      ws.send(JSON.stringify(m));
    },
    onMessage(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    state: () => state,
    lastError: () => error,
    problem: () => problem,
    onState(l) {
      stateListeners.add(l);
      return () => stateListeners.delete(l);
    },
    dispose() {
      disposed = true;
      clearTimeout(retry);
      ws?.close();
    },
  };
}
