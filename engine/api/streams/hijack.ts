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

/**
 * Reads exactly `length` bytes of request body from an upgraded socket (exec start sends a JSON body).
 * The docker CLI writes the headers and the body separately (Go flushes the headers first when the
 * body is not an in-memory reader), so the body often arrives after the upgrade was dispatched.
 */
export async function readUpgradeBody(ctx: RequestContext): Promise<Buffer> {
  const up = ctx.upgrade!;
  const te = String(ctx.req.headers['transfer-encoding'] ?? '').toLowerCase();
  if (te.includes('chunked')) {
    // docker-modem announces chunked with no real body; a bare terminator may follow.
    return readChunkedTerminator(up);
  }
  const length = Number(ctx.req.headers['content-length'] ?? 0);
  if (!length) return Buffer.alloc(0);
  const buf = up.head.length >= length ? up.head : await readAtLeast(up.socket, up.head, length);
  up.head = buf.length > length ? buf.subarray(length) : Buffer.alloc(0);
  return buf.subarray(0, length);
}

async function readChunkedTerminator(up: { socket: Duplex; head: Buffer }): Promise<Buffer> {
  const term = Buffer.from('0\r\n\r\n');
  if (up.head.subarray(0, term.length).equals(term)) up.head = up.head.subarray(term.length);
  return Buffer.alloc(0);
}

/**
 * Pulls from the socket until `length` bytes (with `first`) are there or it ends. Pulled with
 * 'readable' and read(), not with 'data' and pause(): once the 'readable' listener is gone the socket
 * is back in its initial mode, where the attach's 'data' listener starts the flow. An explicitly
 * paused socket stays paused when a 'data' listener is added, and the client's input then sat
 * unread in the kernel (docker exec -it whose body came late never got a keystroke through).
 */
function readAtLeast(socket: Duplex, first: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let buf = first;
    if (socket.readableEnded || socket.destroyed) return resolve(buf);
    const done = () => {
      socket.off('readable', onReadable);
      socket.off('end', done);
      socket.off('close', done);
      resolve(buf);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (buf.length < length && (chunk = socket.read() as Buffer | null) !== null) buf = Buffer.concat([buf, chunk]);
      if (buf.length >= length) done();
    };
    socket.on('readable', onReadable);
    socket.once('end', done);
    socket.once('close', done);
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
