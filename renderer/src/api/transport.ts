/**
 * How the dashboard reaches the backend: the preload's API inside Electron,
 * or a WebSocket to `berth dashboard` (token from the page URL) in a browser.
 * The WebSocket reconnects with backoff after a drop; listeners learn about
 * every state change so the stores can reopen their streams.
 */
import type { ClientMessage, MessagePort, PreloadApi, ServerMessage } from '../../../electron/contract/protocol.js';
import { PRELOAD_GLOBAL } from '../../../electron/contract/protocol.js';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface Transport extends MessagePort {
  readonly kind: 'ipc' | 'ws';
  state(): ConnectionState;
  /** Why the last connection closed, for the banner. */
  lastError(): string | undefined;
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
    onState: () => () => undefined,
    dispose: () => undefined,
  };
}

export function dashboardSocketUrl(loc: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/rpc?token=${encodeURIComponent(token)}`;
}

function wsTransport(loc: Location): Transport {
  const listeners = new Set<(m: ServerMessage) => void>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let ws: WebSocket | undefined;
  let state: ConnectionState = 'connecting';
  let error: string | undefined;
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
    socket.onclose = (ev) => {
      if (ws !== socket) return;
      ws = undefined;
      error = ev.code === 1006 && failures === 0 ? 'the connection to berth dashboard dropped' : `cannot connect to berth dashboard${ev.reason ? `: ${ev.reason}` : ''} (is it still running, and is the token in the URL right?)`;
      setState('closed');
      if (disposed) return;
      // Reconnect only while disconnected; nothing runs once the socket is back.
      const delay = Math.min(10_000, 300 * 2 ** failures++);
      retry = setTimeout(connect, delay);
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
