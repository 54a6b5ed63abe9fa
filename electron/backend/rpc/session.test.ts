import { describe, expect, it } from 'vitest';
import { RpcSession, toWireError, type Handlers } from './session.js';
import type { ServerMessage } from '../../contract/protocol.js';

function handlers(overrides: Partial<Handlers['methods']> = {}, streams: Partial<Handlers['streams']> = {}): Handlers {
  const methods = new Proxy(overrides, {
    get: (t, k: string) => (t as Record<string, unknown>)[k] ?? (() => Promise.reject(new Error(`${k} not stubbed`))),
  }) as Handlers['methods'];
  const s = new Proxy(streams, {
    get: (t, k: string) => (t as Record<string, unknown>)[k] ?? (() => Promise.reject(new Error(`${k} not stubbed`))),
  }) as Handlers['streams'];
  return { methods, streams: s };
}

function session(h: Handlers) {
  const out: ServerMessage[] = [];
  const s = new RpcSession(h, (m) => out.push(m));
  return { s, out, flush: () => new Promise((r) => setTimeout(r, 5)) };
}

describe('RpcSession', () => {
  it('answers a valid call with its validated result', async () => {
    const { s, out, flush } = session(handlers({ 'engines.list': () => ({ engines: [], activeId: null }) }));
    s.receive({ kind: 'call', id: 1, method: 'engines.list', params: {} });
    await flush();
    expect(out).toEqual([{ kind: 'result', id: 1, value: { engines: [], activeId: null } }]);
  });

  it('rejects unknown methods, invalid params and malformed envelopes without calling handlers', async () => {
    let called = 0;
    const { s, out, flush } = session(handlers({ 'containers.remove': () => (called++, []) }));
    s.receive({ kind: 'call', id: 1, method: 'containers.nuke', params: {} });
    s.receive({ kind: 'call', id: 2, method: 'containers.remove', params: { engineId: 'e', ids: [] } });
    s.receive({ kind: 'call', id: 3, method: 'containers.remove', params: { engineId: 'e', ids: ['a'], extra: 1 } });
    s.receive({ kind: 'call', id: 4, method: 'x', params: {}, smuggled: true });
    s.receive('garbage');
    s.receive(null);
    await flush();
    expect(called).toBe(0);
    const byId = Object.fromEntries(out.map((m) => [m.id, m]));
    expect(byId[1]).toMatchObject({ kind: 'error', error: { status: 404 } });
    expect(byId[2]).toMatchObject({ kind: 'error', error: { status: 400 } });
    expect((byId[2] as { error: { issues: Array<{ path: string }> } }).error.issues[0]!.path).toBe('ids');
    expect(byId[3]).toMatchObject({ kind: 'error', error: { status: 400 } });
    expect(byId[4]).toMatchObject({ kind: 'error', error: { status: 400 } });
    expect(out).toHaveLength(4);
  });

  it('applies defaults to params and refuses results outside the contract', async () => {
    let seen: unknown;
    const { s, out, flush } = session(
      handlers({
        'containers.remove': (p) => ((seen = p), [{ id: 'a' }]),
        'engines.list': () => ({ engines: 'nope' }) as never,
      }),
    );
    s.receive({ kind: 'call', id: 1, method: 'containers.remove', params: { engineId: 'e', ids: ['a'] } });
    s.receive({ kind: 'call', id: 2, method: 'engines.list', params: {} });
    await flush();
    expect(seen).toEqual({ engineId: 'e', ids: ['a'], force: false, volumes: false });
    expect(out.find((m) => m.id === 2)).toMatchObject({ kind: 'error', error: { status: 500 } });
  });

  it('carries engine errors with their HTTP status', async () => {
    const err = Object.assign(new Error('(HTTP code 409) conflict'), { statusCode: 409, json: { message: 'You cannot remove a running container' } });
    const { s, out, flush } = session(handlers({ 'containers.inspect': () => Promise.reject(err) }));
    s.receive({ kind: 'call', id: 7, method: 'containers.inspect', params: { engineId: 'e', id: 'c' } });
    await flush();
    expect(out[0]).toEqual({ kind: 'error', id: 7, error: { message: 'You cannot remove a running container', status: 409 } });
    expect(toWireError('plain')).toEqual({ message: 'plain' });
  });

  it('streams events, validates input, and aborts the handler when the client closes', async () => {
    let aborted = false;
    const inputs: unknown[] = [];
    const { s, out, flush } = session(
      handlers(
        {},
        {
          'containers.logs': async (_p, sink) => {
            sink.onInput((i) => inputs.push(i));
            sink.emit({ type: 'data', data: 'a\n', bytes: 2 });
            sink.emit({ type: 'bogus' } as never);
            await new Promise<void>((r) => sink.signal.addEventListener('abort', () => r()));
            aborted = true;
          },
        },
      ),
    );
    s.receive({ kind: 'open', id: 3, stream: 'containers.logs', params: { engineId: 'e', id: 'c', tail: 10 } });
    await flush();
    expect(out).toEqual([{ kind: 'event', id: 3, event: { type: 'data', data: 'a\n', bytes: 2 } }]);
    s.receive({ kind: 'input', id: 3, input: { ack: 2 } });
    s.receive({ kind: 'input', id: 3, input: { ack: -5 } });
    expect(inputs).toEqual([{ ack: 2 }]);
    expect(s.openStreams).toBe(1);
    s.receive({ kind: 'close', id: 3 });
    await flush();
    expect(aborted).toBe(true);
    expect(s.openStreams).toBe(0);
    // Closed by the client: no "end" is sent back.
    expect(out.filter((m) => m.kind === 'end')).toEqual([]);
  });

  it('ends a stream with the handler error, and all streams on dispose', async () => {
    let disposedAbort = false;
    const { s, out, flush } = session(
      handlers(
        {},
        {
          'containers.stats': () => Promise.reject(Object.assign(new Error('no such container'), { statusCode: 404 })),
          'engines.watch': async (_p, sink) => {
            await new Promise<void>((r) => sink.signal.addEventListener('abort', () => r()));
            disposedAbort = true;
          },
        },
      ),
    );
    s.receive({ kind: 'open', id: 1, stream: 'containers.stats', params: { engineId: 'e', id: 'c' } });
    s.receive({ kind: 'open', id: 2, stream: 'engines.watch', params: {} });
    s.receive({ kind: 'open', id: 3, stream: 'nope', params: {} });
    await flush();
    expect(out).toContainEqual({ kind: 'end', id: 1, error: { message: 'no such container', status: 404 } });
    expect(out).toContainEqual({ kind: 'end', id: 3, error: { status: 404, message: 'unknown stream "nope"' } });
    s.dispose();
    await flush();
    expect(disposedAbort).toBe(true);
  });
});
