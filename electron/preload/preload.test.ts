import { describe, expect, it, vi } from 'vitest';
import { createRequire } from 'node:module';
import { IPC_CHANNEL, PRELOAD_GLOBAL } from '../contract/protocol.js';

// The Electron runtime cannot exist here: stand in for contextBridge and ipcRenderer.
const exposed: Record<string, unknown> = {};
const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
const sent: Array<[string, unknown]> = [];
const fakeElectron = {
  contextBridge: { exposeInMainWorld: (name: string, api: unknown) => (exposed[name] = api) },
  ipcRenderer: {
    send: (ch: string, m: unknown) => sent.push([ch, m]),
    on: (ch: string, l: (...a: unknown[]) => void) => {
      if (!listeners.has(ch)) listeners.set(ch, new Set());
      listeners.get(ch)!.add(l);
    },
    removeListener: (ch: string, l: (...a: unknown[]) => void) => listeners.get(ch)?.delete(l),
  },
};

async function loadPreload(): Promise<{ IPC_CHANNEL: string; PRELOAD_GLOBAL: string; checkOutgoing(m: unknown): unknown }> {
  // Compile the CommonJS preload the way tsc does and run it with a fake `electron` and a context-isolated process.
  const { transform } = await import('esbuild');
  const fs = await import('node:fs');
  const src = fs.readFileSync(new URL('./preload.cts', import.meta.url), 'utf8');
  const { code } = await transform(src, { loader: 'ts', format: 'cjs' });
  const mod = { exports: {} as Record<string, unknown> };
  const req = (id: string) => (id === 'electron' ? fakeElectron : createRequire(import.meta.url)(id));
  const proc = { contextIsolated: true, platform: 'linux', versions: { electron: '41.0.0', chrome: '140', node: '22' } };
  new Function('require', 'module', 'exports', 'process', code)(req, mod, mod.exports, proc);
  return mod.exports as never;
}

describe('preload', () => {
  it('uses the contract channel and global names', async () => {
    const p = await loadPreload();
    expect(p.IPC_CHANNEL).toBe(IPC_CHANNEL);
    expect(p.PRELOAD_GLOBAL).toBe(PRELOAD_GLOBAL);
  });

  it('exposes one namespaced API that sends checked messages and never leaks the IPC event', async () => {
    await loadPreload();
    const api = exposed[PRELOAD_GLOBAL] as { send(m: unknown): void; onMessage(l: (m: unknown) => void): () => void; platform: string; versions: { electron: string } };
    expect(Object.keys(exposed)).toEqual([PRELOAD_GLOBAL]);
    expect(api.platform).toBe('linux');
    expect(api.versions.electron).toBe('41.0.0');
    api.send({ kind: 'call', id: 1, method: 'engines.list', params: {} });
    expect(sent.at(-1)).toEqual([IPC_CHANNEL, { kind: 'call', id: 1, method: 'engines.list', params: {} }]);
    expect(() => api.send({ kind: 'eval', id: 1 })).toThrow(/unknown message kind/);
    expect(() => api.send({ kind: 'call', id: -1 })).toThrow(/id/);
    expect(() => api.send('x')).toThrow(/object/);
    const got = vi.fn();
    const off = api.onMessage(got);
    for (const l of listeners.get(IPC_CHANNEL)!) l({ sender: 'secret' }, { kind: 'result', id: 1, value: 2 });
    expect(got).toHaveBeenCalledWith({ kind: 'result', id: 1, value: 2 });
    expect(got.mock.calls[0]).toHaveLength(1);
    off();
    expect(listeners.get(IPC_CHANNEL)!.size).toBe(0);
  });

  it('drops functions and other non-JSON values before they cross', async () => {
    const p = await loadPreload();
    expect(p.checkOutgoing({ kind: 'call', id: 2, method: 'x', params: { f: () => 1, d: new Date(0) } })).toEqual({ kind: 'call', id: 2, method: 'x', params: { d: '1970-01-01T00:00:00.000Z' } });
  });
});
