/**
 * The server side of the contract for one connection (an Electron window or a
 * dashboard WebSocket): validates every incoming message and its params
 * against the contract, dispatches to the handlers, validates what goes back,
 * and owns the connection's open streams (closed when the client closes them
 * or the connection ends).
 */
import { z } from 'zod';
import {
  methods,
  streams,
  isMethodName,
  isStreamName,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  type StreamEventOf,
  type StreamInputOf,
  type StreamName,
  type StreamParamsOf,
} from '../../contract/api.js';
import { validationError } from '../../contract/client.js';
import { ClientMessageSchema, type ServerMessage, type WireError } from '../../contract/protocol.js';

export interface StreamSink<S extends StreamName> {
  emit(event: StreamEventOf<S>): void;
  /** Registers the handler for client input (stdin, acks). */
  onInput(handler: (input: StreamInputOf<S>) => void): void;
  /** Aborted when the client closes the stream or disconnects. */
  readonly signal: AbortSignal;
}

export type MethodHandlers = { [M in MethodName]: (params: ParamsOf<M>) => Promise<ResultOf<M>> | ResultOf<M> };
/** A stream handler runs until it returns (the stream ends) or throws (it ends with the error). */
export type StreamHandlers = { [S in StreamName]: (params: StreamParamsOf<S>, sink: StreamSink<S>) => Promise<void> };

export interface Handlers {
  methods: MethodHandlers;
  streams: StreamHandlers;
}

interface ActiveStream {
  abort: AbortController;
  input?: (input: unknown) => void;
  name: StreamName;
}

/** dockerode's "(HTTP code 400) unexpected - " (or "bad parameter - ") in front of the engine's own words. */
const DOCKERODE_PREFIX = /^\(HTTP code \d+\) [^-]*- /;

/** Docker API errors (dockerode) and our own errors, as the wire shape: the engine's message, without transport noise. */
export function toWireError(err: unknown): WireError {
  if (err && typeof err === 'object') {
    const e = err as { statusCode?: unknown; status?: unknown; json?: unknown; message?: unknown; reason?: unknown };
    const json = e.json as { message?: unknown } | string | undefined | null;
    const raw =
      (json && typeof json === 'object' && typeof json.message === 'string' && json.message) ||
      (typeof json === 'string' && json.trim()) ||
      (typeof e.message === 'string' && e.message) ||
      (typeof e.reason === 'string' && e.reason) ||
      String(err);
    const message = raw.replace(DOCKERODE_PREFIX, '').trim() || raw;
    const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
    return status === undefined ? { message } : { message, status };
  }
  return { message: String(err) };
}

export class RpcSession {
  private readonly active = new Map<number, ActiveStream>();
  private disposed = false;

  constructor(
    private readonly handlers: Handlers,
    private readonly send: (message: ServerMessage) => void,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** Handles one message from the client; anything malformed is answered or dropped, never thrown. */
  receive(raw: unknown): void {
    if (this.disposed) return;
    const parsed = ClientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : undefined;
      this.log(`rejected a malformed message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      if (id !== undefined && Number.isSafeInteger(id) && id >= 0) this.post({ kind: 'error', id, error: validationError(parsed.error, 'message') });
      return;
    }
    const m = parsed.data;
    switch (m.kind) {
      case 'call':
        void this.call(m.id, m.method, m.params);
        return;
      case 'open':
        this.open(m.id, m.stream, m.params);
        return;
      case 'input': {
        const s = this.active.get(m.id);
        if (!s?.input) return;
        const input = streams[s.name].input.safeParse(m.input);
        if (!input.success) {
          this.log(`rejected invalid input for ${s.name}: ${input.error.issues[0]?.message}`);
          return;
        }
        try {
          s.input(input.data);
        } catch (err) {
          this.log(`input handler of ${s.name} failed: ${(err as Error).message}`);
        }
        return;
      }
      case 'close': {
        const s = this.active.get(m.id);
        if (!s) return;
        this.active.delete(m.id);
        s.abort.abort();
        return;
      }
    }
  }

  /** Ends every stream (the connection is gone). */
  dispose(): void {
    this.disposed = true;
    for (const s of this.active.values()) s.abort.abort();
    this.active.clear();
  }

  get openStreams(): number {
    return this.active.size;
  }

  private post(m: ServerMessage): void {
    if (this.disposed) return;
    try {
      this.send(m);
    } catch (err) {
      this.log(`could not send to the client: ${(err as Error).message}`);
    }
  }

  private async call(id: number, name: string, rawParams: unknown): Promise<void> {
    if (!isMethodName(name)) {
      this.post({ kind: 'error', id, error: { status: 404, message: `unknown method "${name}"` } });
      return;
    }
    const def = methods[name];
    const params = def.params.safeParse(rawParams);
    if (!params.success) {
      this.post({ kind: 'error', id, error: validationError(params.error, `${name} request`) });
      return;
    }
    try {
      const handler = this.handlers.methods[name] as (p: unknown) => unknown;
      const value = await handler(params.data);
      const checked = (def.result as z.ZodType).safeParse(value);
      if (!checked.success) {
        this.log(`${name} returned a result outside the contract: ${z.prettifyError(checked.error)}`);
        this.post({ kind: 'error', id, error: { status: 500, message: `internal error: ${name} returned an invalid result` } });
        return;
      }
      this.post({ kind: 'result', id, value: checked.data });
    } catch (err) {
      this.post({ kind: 'error', id, error: toWireError(err) });
    }
  }

  private open(id: number, name: string, rawParams: unknown): void {
    if (!isStreamName(name)) {
      this.post({ kind: 'end', id, error: { status: 404, message: `unknown stream "${name}"` } });
      return;
    }
    if (this.active.has(id)) {
      this.post({ kind: 'end', id, error: { status: 400, message: `stream id ${id} is already open` } });
      return;
    }
    const def = streams[name];
    const params = def.params.safeParse(rawParams);
    if (!params.success) {
      this.post({ kind: 'end', id, error: validationError(params.error, `${name} request`) });
      return;
    }
    const abort = new AbortController();
    const entry: ActiveStream = { abort, name };
    this.active.set(id, entry);
    const eventSchema = def.event as z.ZodType;
    const sink: StreamSink<StreamName> = {
      signal: abort.signal,
      emit: (event) => {
        if (abort.signal.aborted) return;
        const checked = eventSchema.safeParse(event);
        if (!checked.success) {
          this.log(`${name} emitted an event outside the contract: ${z.prettifyError(checked.error)}`);
          return;
        }
        this.post({ kind: 'event', id, event: checked.data });
      },
      onInput: (handler) => {
        entry.input = handler as (input: unknown) => void;
      },
    };
    const handler = this.handlers.streams[name] as (p: unknown, s: StreamSink<StreamName>) => Promise<void>;
    let run: Promise<void>;
    try {
      run = handler(params.data, sink);
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      () => this.finish(id, entry),
      (err: unknown) => this.finish(id, entry, err),
    );
  }

  private finish(id: number, entry: ActiveStream, err?: unknown): void {
    const closedByClient = entry.abort.signal.aborted;
    if (this.active.get(id) === entry) this.active.delete(id);
    entry.abort.abort();
    if (closedByClient) return;
    this.post(err === undefined ? { kind: 'end', id } : { kind: 'end', id, error: toWireError(err) });
  }
}
