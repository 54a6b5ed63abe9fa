/**
 * The request context handed to every route handler, and the helpers that
 * write Docker-shaped responses: JSON bodies, errors, streams and hijacks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidParameterError } from '../errdefs.js';
import { API_VERSION, ENGINE_VERSION } from '../version.js';

export interface RequestContext {
  req: IncomingMessage;
  /** Absent for requests that arrived as an HTTP Upgrade. */
  res: ServerResponse | undefined;
  /** Present for HTTP Upgrade requests: the raw socket and bytes read past the headers. */
  upgrade: { socket: Duplex; head: Buffer } | undefined;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the request asked for (or the server's). */
  version: string;
  path: string;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export const commonHeaders: Record<string, string> = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `Docker/${ENGINE_VERSION} (linux)`,
};

/** Compares "1.41" style versions. */
export function versionLess(a: string, b: string): boolean {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am < bm || (am === bm && an < bn);
}

function responseOf(ctx: RequestContext): ServerResponse {
  if (!ctx.res) throw new InvalidParameterError('this endpoint cannot be used with an Upgrade request');
  return ctx.res;
}

export function sendJson(ctx: RequestContext, status: number, body: unknown): void {
  const res = responseOf(ctx);
  const data = Buffer.from(JSON.stringify(body) + '\n');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(ctx.req.method === 'HEAD' ? undefined : data);
}

export function sendStatus(ctx: RequestContext, status: number): void {
  const res = responseOf(ctx);
  res.writeHead(status);
  res.end();
}

export function sendText(ctx: RequestContext, status: number, body: string, headers: Record<string, string> = {}): void {
  const res = responseOf(ctx);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(ctx.req.method === 'HEAD' ? undefined : body);
}

/** Begins a streamed response and flushes the headers immediately (clients wait for them). */
export function beginStream(ctx: RequestContext, contentType: string, status = 200, headers: Record<string, string> = {}): ServerResponse {
  const res = responseOf(ctx);
  res.writeHead(status, { 'Content-Type': contentType, ...headers });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  return res;
}

/** Writes one compact JSON object per line (docker-modem splits progress streams on \n). */
export function writeJsonLine(stream: { write(chunk: string): boolean }, obj: unknown): boolean {
  return stream.write(JSON.stringify(obj) + '\n');
}

const MAX_JSON_BODY = 16 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new InvalidParameterError(`request body is too large (over ${limit} bytes)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads an optional JSON body. Mirrors moby's CheckForJSON: a non-empty body
 * must be labelled application/json.
 */
export async function readJson(ctx: RequestContext): Promise<unknown> {
  const body = await readBody(ctx.req);
  if (body.length === 0 || body.toString().trim() === '') return undefined;
  const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (ct !== '' && ct !== 'application/json') {
    throw new InvalidParameterError(`unsupported Content-Type header (${ct}): must be 'application/json'`);
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidParameterError(`invalid JSON: ${(err as Error).message}`);
  }
}
