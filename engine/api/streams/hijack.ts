/**
 * Connection hijacking for attach and exec: the response becomes a raw
 * duplex byte stream. With `Upgrade: tcp` the socket is upgraded (101); without
 * it (dockerode hijack:false, testcontainers) a 200 response streams output and
 * the request body, if any, is stdin.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { commonHeaders, type RequestContext } from '../context.js';
import type { ClientStreams } from '../../containers/streams.js';
import { StreamWriter } from './writer.js';

export interface Hijacked {
  /** Client to container bytes. Ends when the client half-closes (stdin EOF). */
  input: Readable;
  /** Container to client bytes. */
  output: Writable;
  /** Ends the output and the connection once everything written is flushed. */
  end(): void;
  /** Tears the connection down at once. */
  destroy(): void;
  /** Resolves when the client has gone (connection closed). */
  closed: Promise<void>;
  /** True once the client connection is gone. */
  isClosed(): boolean;
}

/** Reads exactly `length` bytes of request body from an upgraded socket (exec start sends a JSON body). */
export async function readUpgradeBody(ctx: RequestContext): Promise<Buffer> {
  const up = ctx.upgrade!;
  const te = String(ctx.req.headers['transfer-encoding'] ?? '').toLowerCase();
  if (te.includes('chunked')) {
    // docker-modem announces chunked with no real body; a bare terminator may follow.
    return readChunkedTerminator(up);
  }
  const length = Number(ctx.req.headers['content-length'] ?? 0);
  if (!length) return Buffer.alloc(0);
  let buf = up.head;
  up.head = Buffer.alloc(0);
  while (buf.length < length) {
    const chunk = await readOnce(up.socket);
    if (!chunk) break;
    buf = Buffer.concat([buf, chunk]);
  }
  if (buf.length > length) up.head = buf.subarray(length);
  return buf.subarray(0, length);
}

async function readChunkedTerminator(up: { socket: Duplex; head: Buffer }): Promise<Buffer> {
  const term = Buffer.from('0\r\n\r\n');
  if (up.head.subarray(0, term.length).equals(term)) up.head = up.head.subarray(term.length);
  return Buffer.alloc(0);
}

function readOnce(socket: Duplex): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      cleanup();
      socket.pause();
      resolve(d);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}

export function hijack(ctx: RequestContext, contentType: string): Hijacked {
  if (ctx.upgrade) return hijackUpgrade(ctx, contentType);
  return hijackResponse(ctx, contentType);
}

function hijackUpgrade(ctx: RequestContext, contentType: string): Hijacked {
  const { socket } = ctx.upgrade!;
  let head = ctx.upgrade!.head;
  const te = String(ctx.req.headers['transfer-encoding'] ?? '').toLowerCase();
  if (te.includes('chunked')) {
    const term = Buffer.from('0\r\n\r\n');
    if (head.subarray(0, term.length).equals(term)) head = head.subarray(term.length);
  }
  let lines = `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n`;
  for (const [k, v] of Object.entries(commonHeaders)) lines += `${k}: ${v}\r\n`;
  socket.write(lines + '\r\n');
  (socket as unknown as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  if (head.length > 0) socket.unshift(head);
  let closed = false;
  const closedP = new Promise<void>((resolve) => {
    socket.once('close', () => {
      closed = true;
      resolve();
    });
  });
  socket.on('error', () => undefined);
  return {
    input: socket,
    output: socket,
    end: () => {
      if (!socket.destroyed) socket.end();
    },
    destroy: () => socket.destroy(),
    closed: closedP,
    isClosed: () => closed,
  };
}

function hijackResponse(ctx: RequestContext, contentType: string): Hijacked {
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  let closed = false;
  const closedP = new Promise<void>((resolve) => {
    res.once('close', () => {
      closed = true;
      resolve();
    });
  });
  // The request body, if the client sends one, is stdin.
  const input = ctx.req.readableEnded ? endedStream() : ctx.req;
  return {
    input,
    output: res,
    end: () => res.end(),
    destroy: () => res.destroy(),
    closed: closedP,
    isClosed: () => closed,
  };
}

function endedStream(): Readable {
  const p = new PassThrough();
  p.end();
  return p;
}

/** A hijacked connection as the domain sees it: output framed for `tty` (raw) or multiplexed. */
export function clientStreams(h: Hijacked, tty: boolean): ClientStreams {
  return { input: h.input, output: new StreamWriter(h.output, tty), end: () => h.end(), closed: h.closed };
}
