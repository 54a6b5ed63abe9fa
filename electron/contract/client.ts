/**
 * The typed client side of the contract, over any MessagePort (the preload's
 * API in Electron, a WebSocket in the browser). Calls resolve with the result
 * or reject with an RpcError rebuilt from the wire; streams deliver events to
 * callbacks until either side ends them. Params are validated here too, so
 * forms get field errors without a round trip.
 */
import type { z } from 'zod';
import {
  methods,
  streams,
  type MethodName,
  type ParamsIn,
  type ResultOf,
  type StreamEventOf,
  type StreamInputOf,
  type StreamName,
  type StreamParamsIn,
} from './api.js';
import type { MessagePort, ServerMessage, WireError } from './protocol.js';

export class RpcError extends Error {
  readonly status: number | undefined;
  readonly issues: WireError['issues'];
  constructor(wire: WireError) {
    super(wire.message);
    this.name = 'RpcError';
    this.status = wire.status;
    this.issues = wire.issues;
  }
}

/** Turns a zod failure into the wire shape both sides use. */
export function validationError(err: z.ZodError, what: string): WireError {
  const issues = err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const first = issues[0];
  return { status: 400, message: `invalid ${what}: ${first ? (first.path ? `${first.path}: ` : '') + first.message : 'bad input'}`, issues };
}

export interface StreamCallbacks<S extends StreamName> {
  onEvent(event: StreamEventOf<S>): void;
  /** Called once: without an error when the server finished, with one when it failed or the connection dropped. */
  onEnd?(error?: RpcError): void;
}

export interface StreamHandle<S extends StreamName> {
  send(input: StreamInputOf<S>): void;
  close(): void;
  readonly closed: boolean;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(err: RpcError): void;
}

interface OpenStream {
  callbacks: StreamCallbacks<StreamName>;
  handle: { closed: boolean };
}

export class BerthClient {
  private nextId = 1;
  private readonly calls = new Map<number, PendingCall>();
  private readonly streams = new Map<number, OpenStream>();
  private readonly unlisten: () => void;

  constructor(private readonly port: MessagePort) {
    this.unlisten = port.onMessage((m) => this.receive(m));
  }

  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<ResultOf<M>> {
    const parsed = methods[method].params.safeParse(params);
    if (!parsed.success) return Promise.reject(new RpcError(validationError(parsed.error, `${method} request`)));
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.port.send({ kind: 'call', id, method, params });
      } catch (err) {
        this.calls.delete(id);
        reject(new RpcError({ message: `cannot reach the Berth backend: ${(err as Error).message}` }));
      }
    });
  }

  open<S extends StreamName>(stream: S, params: StreamParamsIn<S>, callbacks: StreamCallbacks<S>): StreamHandle<S> {
    const id = this.nextId++;
    const handle = {
      closed: false,
      send: (input: StreamInputOf<S>) => {
        if (handle.closed) return;
        this.port.send({ kind: 'input', id, input });
      },
      close: () => {
        if (handle.closed) return;
        handle.closed = true;
        this.streams.delete(id);
        try {
          this.port.send({ kind: 'close', id });
        } catch {
          // The connection is gone: nothing left to close.
        }
      },
    };
    const parsed = streams[stream].params.safeParse(params);
    if (!parsed.success) {
      handle.closed = true;
      const err = new RpcError(validationError(parsed.error, `${stream} request`));
      queueMicrotask(() => callbacks.onEnd?.(err));
      return handle;
    }
    this.streams.set(id, { callbacks: callbacks as unknown as StreamCallbacks<StreamName>, handle });
    try {
      this.port.send({ kind: 'open', id, stream, params });
    } catch (err) {
      this.streams.delete(id);
      handle.closed = true;
      const e = new RpcError({ message: `cannot reach the Berth backend: ${(err as Error).message}` });
      queueMicrotask(() => callbacks.onEnd?.(e));
    }
    return handle;
  }

  /** Fails every pending call and ends every stream (the transport dropped). */
  disconnect(reason: string): void {
    const err = new RpcError({ message: reason });
    const calls = [...this.calls.values()];
    const open = [...this.streams.values()];
    this.calls.clear();
    this.streams.clear();
    for (const c of calls) c.reject(err);
    for (const s of open) {
      s.handle.closed = true;
      s.callbacks.onEnd?.(err);
    }
  }

  dispose(): void {
    this.disconnect('client disposed');
    this.unlisten();
  }

  private receive(m: ServerMessage): void {
    switch (m.kind) {
      case 'result':
      case 'error': {
        const call = this.calls.get(m.id);
        if (!call) return;
        this.calls.delete(m.id);
        if (m.kind === 'result') call.resolve(m.value);
        else call.reject(new RpcError(m.error));
        return;
      }
      case 'event': {
        const s = this.streams.get(m.id);
        if (s && !s.handle.closed) s.callbacks.onEvent(m.event as never);
        return;
      }
      case 'end': {
        const s = this.streams.get(m.id);
        if (!s) return;
        this.streams.delete(m.id);
        s.handle.closed = true;
        s.callbacks.onEnd?.(m.error ? new RpcError(m.error) : undefined);
        return;
      }
    }
  }
}
