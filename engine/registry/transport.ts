/**
 * HTTP for registries over undici: one connection pool per origin and TLS
 * setting, streaming bodies, redirects followed by hand (Authorization is
 * dropped when a redirect leaves the registry's host, e.g. to blob storage),
 * and network failures reported in Go's wording.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { describeNetworkError, TransportError } from './errors.js';
import type { TlsSettings } from './endpoints.js';
import { ENGINE_VERSION } from '../version.js';

export type Headers = Record<string, string>;

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Headers;
  body?: Buffer | string | Readable | null;
  signal?: AbortSignal | undefined;
  tls: TlsSettings;
  /** Milliseconds to wait for response headers (default 5 min, as undici). */
  headersTimeout?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: string;
}

export const USER_AGENT = `docker/${ENGINE_VERSION} go/go1.24 git-commit/berth os/linux arch/amd64 UpstreamClient(berthd)`;

const MAX_REDIRECTS = 10;

export function header(res: { headers: HttpResponse['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function headerAll(res: { headers: HttpResponse['headers'] }, name: string): string[] {
  const v = res.headers[name.toLowerCase()];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Reads a response body up to limit bytes; throws (and drops the connection) past it. */
export async function readBody(body: Readable, limit: number, what: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw what();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Discards a response body so the connection can be reused. */
export async function discard(res: HttpResponse): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    /* the connection is closed instead */
  }
}

export class HttpTransport {
  private readonly agents = new Map<string, Agent>();

  private agent(tls: TlsSettings): Agent {
    const key = createHash('sha256')
      .update(JSON.stringify([tls.verify, tls.ca ?? [], tls.cert ?? '']))
      .digest('hex');
    let a = this.agents.get(key);
    if (!a) {
      a = new Agent({
        keepAliveTimeout: 30_000,
        connect: {
          timeout: 30_000,
          rejectUnauthorized: tls.verify,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
        },
      });
      this.agents.set(key, a);
    }
    return a;
  }

  /** Sends a request, following redirects. Network errors become TransportError. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers: Headers = { 'user-agent': USER_AGENT, ...req.headers };
    const origin = new URL(url).host;
    for (let hop = 0; ; hop++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: req.method,
          headers,
          body: hop === 0 ? (req.body ?? null) : null,
          signal: req.signal ?? null,
          dispatcher: this.agent(req.tls),
          headersTimeout: req.headersTimeout ?? 300_000,
          bodyTimeout: 300_000,
        });
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason ?? err;
        const { reason, tls } = describeNetworkError(err, new URL(url).host);
        throw new TransportError(req.method, url, reason, tls, { cause: err });
      }
      const loc = res.headers.location;
      const location = Array.isArray(loc) ? loc[0] : loc;
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && location && (req.method === 'GET' || req.method === 'HEAD')) {
        await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        if (hop >= MAX_REDIRECTS) throw new TransportError(req.method, url, `stopped after ${MAX_REDIRECTS} redirects`, false);
        const next = new URL(location, url);
        if (next.host !== origin) {
          // Credentials for the registry must not follow it to blob storage.
          headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
        }
        url = next.toString();
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url };
    }
  }

  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  }
}
