import { describe, expect, it } from 'vitest';
import { BerthClient, RpcError } from './client.js';
import type { ClientMessage, MessagePort, ServerMessage } from './protocol.js';
import { RpcSession, type Handlers } from '../backend/rpc/session.js';
import { methodNames, methods, streamNames, streams } from './api.js';

/** A client and a server session joined back to back (what IPC or the WebSocket do, minus the wire). */
function pair(h: Partial<Handlers['methods']>, s: Partial<Handlers['streams']> = {}) {
  const listeners = new Set<(m: ServerMessage) => void>();
  const sent: ClientMessage[] = [];
  const session = new RpcSession({ methods: h as Handlers['methods'], streams: s as Handlers['streams'] }, (m) => {
    const copy = JSON.parse(JSON.stringify(m)) as ServerMessage;
    queueMicrotask(() => listeners.forEach((l) => l(copy)));
  });
  const port: MessagePort = {
    send: (m) => {
      sent.push(m);
      session.receive(JSON.parse(JSON.stringify(m)));
    },
    onMessage: (l) => (listeners.add(l), () => listeners.delete(l)),
  };
  return { client: new BerthClient(port), sent, session };
}

describe('the contract', () => {
  it('defines every method and stream with schemas and no duplicated names', () => {
    expect(new Set(methodNames).size).toBe(methodNames.length);
    for (const m of methodNames) expect(methods[m].params.safeParse).toBeTypeOf('function');
    for (const s of streamNames) expect(streams[s].event.safeParse).toBeTypeOf('function');
    expect(methodNames.filter((m) => (streamNames as string[]).includes(m))).toEqual([]);
  });

  it('round-trips a call and rebuilds errors as RpcError with status and issues', async () => {
    const { client } = pair({
      'settings.get': () => ({ theme: 'dark', startAtLogin: false, closeToTray: true, startEngineOnLaunch: true, notifications: true, activeEngineId: null, endpoints: [], views: {} }),
      'containers.inspect': () => Promise.reject(Object.assign(new Error('x'), { statusCode: 404, json: { message: 'No such container: c' } })),
    });
    expect((await client.call('settings.get', {})).theme).toBe('dark');
    const err = await client.call('containers.inspect', { engineId: 'e', id: 'c' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).status).toBe(404);
    expect((err as RpcError).message).toBe('No such container: c');
  });

  it('validates params on the client before anything is sent', async () => {
    const { client, sent } = pair({});
    const err = (await client.call('settings.update', { theme: 'purple' as never }).catch((e: unknown) => e)) as RpcError;
    expect(err.status).toBe(400);
    expect(err.issues?.[0]?.path).toBe('theme');
    expect(sent).toEqual([]);
  });

  it('delivers stream events and the end; disconnect fails pending calls and ends streams', async () => {
    let release!: () => void;
    const { client } = pair(
      { 'engines.list': () => new Promise(() => undefined) },
      {
        'containers.stats': async (_p, sink) => {
          sink.emit({ time: 1, cpuPercent: 5, onlineCpus: 2, memUsage: 1, memLimit: 2, netRx: 0, netTx: 0, blkRead: 0, blkWrite: 0, pids: 1 });
          await new Promise<void>((r) => (release = r));
        },
      },
    );
    const events: number[] = [];
    let ended: RpcError | undefined | 'not yet' = 'not yet';
    client.open('containers.stats', { engineId: 'e', id: 'c' }, { onEvent: (e) => events.push(e.cpuPercent), onEnd: (e) => (ended = e) });
    await new Promise((r) => setTimeout(r, 5));
    expect(events).toEqual([5]);
    release();
    await new Promise((r) => setTimeout(r, 5));
    expect(ended).toBeUndefined();

    const pending = client.call('engines.list', {});
    let streamEnd: RpcError | undefined;
    client.open('engines.watch', {}, { onEvent: () => undefined, onEnd: (e) => (streamEnd = e) });
    client.disconnect('connection lost');
    await expect(pending).rejects.toThrow('connection lost');
    expect(streamEnd?.message).toBe('connection lost');
  });
});
