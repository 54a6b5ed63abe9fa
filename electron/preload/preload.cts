/**
 * The preload: the only bridge between the sandboxed dashboard and Berth. It
 * exposes one namespaced API, window.berth (send a contract message, listen
 * for replies), over a single IPC channel. It is CommonJS with no imports but
 * Electron's, because sandboxed preloads cannot load other files; main
 * validates every message against the contract, and this side checks shape
 * and size so nothing else crosses. The channel names are the contract's
 * (checked by preload.test.ts).
 */
// Sandboxed preloads are CommonJS and may only require('electron').
// eslint-disable-next-line @typescript-eslint/no-require-imports
import electron = require('electron');
import type { ClientMessage, PreloadApi, ServerMessage } from '../contract/protocol.js';

const IPC_CHANNEL = 'berth:rpc';
const PRELOAD_GLOBAL = 'berth';
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
const KINDS = new Set(['call', 'open', 'input', 'close']);

function checkOutgoing(message: unknown): ClientMessage {
  if (!message || typeof message !== 'object' || Array.isArray(message)) throw new TypeError('berth.send: a message must be an object');
  const m = message as { kind?: unknown; id?: unknown };
  if (typeof m.kind !== 'string' || !KINDS.has(m.kind)) throw new TypeError('berth.send: unknown message kind');
  if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id) || m.id < 0) throw new TypeError('berth.send: the id must be a non-negative integer');
  // Structured clone would carry functions or cycles badly; JSON is what the contract allows anyway.
  const text = JSON.stringify(message);
  if (text.length > MAX_MESSAGE_BYTES) throw new RangeError('berth.send: message too large');
  return JSON.parse(text) as ClientMessage;
}

function createApi(ipc: Pick<Electron.IpcRenderer, 'send' | 'on' | 'removeListener'>, proc: { platform: string; versions: Record<string, string | undefined> }): PreloadApi {
  return {
    platform: proc.platform,
    versions: { electron: proc.versions.electron ?? '', chrome: proc.versions.chrome ?? '', node: proc.versions.node ?? '', berth: proc.versions.berth ?? '' },
    send(message: ClientMessage) {
      ipc.send(IPC_CHANNEL, checkOutgoing(message));
    },
    onMessage(listener: (message: ServerMessage) => void) {
      // The renderer never sees the IPC event object (it would expose ipcRenderer).
      const wrapped = (_event: Electron.IpcRendererEvent, message: ServerMessage) => listener(message);
      ipc.on(IPC_CHANNEL, wrapped);
      return () => {
        ipc.removeListener(IPC_CHANNEL, wrapped);
      };
    },
  };
}

if (process.contextIsolated && electron.contextBridge) {
  electron.contextBridge.exposeInMainWorld(PRELOAD_GLOBAL, createApi(electron.ipcRenderer, process as unknown as { platform: string; versions: Record<string, string | undefined> }));
}

// For the unit test (sandboxed preloads may have no module object).
if (typeof module !== 'undefined') module.exports = { IPC_CHANNEL, PRELOAD_GLOBAL, checkOutgoing, createApi };
