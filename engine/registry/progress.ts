/**
 * Docker's JSON progress stream for pull and push: one JSON object per line
 * (CRLF-terminated, with Go's HTML-safe escaping) in the field order of
 * moby's JSONMessage: status, progressDetail, progress, id, errorDetail,
 * error, aux. The `progress` bar string is rendered exactly as the daemon's
 * JSONProgress.String() does (200-column width, go-units sizes).
 *
 * The HTTP response begins lazily with the first line, so an operation that
 * fails before producing output can still answer with a plain HTTP error
 * (which is what makes `docker run` print "Unable to find image").
 */
import type { ServerResponse } from 'node:http';
import { beginStream, type RequestContext } from '../api/context.js';

const abbrs = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's fmt "%.4g" for the values go-units produces (0 <= v < 1000.5). */
function g4(v: number): string {
  if (v === 0) return '0';
  return String(Number(v.toPrecision(4)));
}

/** go-units HumanSize: decimal units, 4 significant digits ("2.153MB", "512B"). */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < abbrs.length - 1) {
    size /= 1000;
    i++;
  }
  return g4(size) + abbrs[i];
}

/** The daemon-side rendering of a progress bar: "[=====>      ]  1.2MB/5.3MB". */
export function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  let pct = Math.floor(Math.floor((current / total) * 100) / 2);
  if (pct > 50) pct = 50;
  const bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

/** JSON.stringify with Go's encoding/json escaping of <, >, & and U+2028/2029. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export interface ProgressDetail {
  current?: number;
  total?: number;
}

export function statusLine(id: string | undefined, status: string): string {
  const o: Record<string, unknown> = { status };
  if (id) o.id = id;
  return goJson(o) + '\r\n';
}

export function progressLine(id: string | undefined, action: string, detail: ProgressDetail = {}): string {
  const pd: Record<string, number> = {};
  if (detail.current) pd.current = detail.current;
  if (detail.total) pd.total = detail.total;
  const o: Record<string, unknown> = { status: action, progressDetail: pd };
  const bar = progressBar(detail.current ?? 0, detail.total ?? 0);
  if (bar) o.progress = bar;
  if (id) o.id = id;
  return goJson(o) + '\r\n';
}

export function auxLine(aux: unknown): string {
  return goJson({ progressDetail: {}, aux }) + '\r\n';
}

export function errorLine(message: string): string {
  return goJson({ errorDetail: { message }, error: message }) + '\r\n';
}

/** Where pull and push report progress. */
export interface ProgressSink {
  /** A message line: {"status": msg, "id": id}. */
  message(id: string | undefined, msg: string): void;
  /** A status update with progressDetail (possibly empty). */
  update(id: string, action: string, detail?: ProgressDetail): void;
  aux(value: unknown): void;
}

/** Buffered progress lines beyond this are dropped (only bar updates) for a client that does not read. */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** The progress stream of one API request. */
export class ProgressStream implements ProgressSink {
  private res: ServerResponse | undefined;
  private ended = false;
  readonly abort = new AbortController();

  constructor(private readonly ctx: RequestContext) {
    // A client that goes away cancels the operation (moby cancels on a write error).
    ctx.res?.once('close', () => {
      if (!this.ended && !ctx.res?.writableFinished) this.abort.abort(new Error('client disconnected'));
    });
  }

  get started(): boolean {
    return this.res !== undefined;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private write(line: string, droppable = false): void {
    if (this.ended) return;
    if (!this.res) this.res = beginStream(this.ctx, 'application/json');
    if (droppable && this.res.writableLength > MAX_BUFFERED) return;
    this.res.write(line);
  }

  message(id: string | undefined, msg: string): void {
    this.write(statusLine(id, msg));
  }

  update(id: string, action: string, detail?: ProgressDetail): void {
    const droppable = detail !== undefined && (detail.current ?? 0) > 0;
    this.write(progressLine(id, action, detail), droppable);
  }

  aux(value: unknown): void {
    this.write(auxLine(value));
  }

  /** Reports an error in-band (after output began). */
  error(message: string): void {
    this.write(errorLine(message));
  }

  end(): void {
    if (this.ended) return;
    if (!this.res) this.res = beginStream(this.ctx, 'application/json');
    this.ended = true;
    this.res.end();
  }
}

/**
 * Rate-limits "Downloading"/"Extracting"/"Pushing" bar updates per layer as
 * moby's progress reader does: at most one per 100 ms, each after at least
 * min(512 KB, 1%) of progress, plus the final one.
 */
export class BarThrottle {
  private lastBytes = 0;
  private lastTime = 0;

  constructor(private readonly total: number) {}

  shouldEmit(current: number): boolean {
    const step = this.total > 0 ? Math.min(512 * 1024, Math.floor(this.total / 100)) : 512 * 1024;
    if (current === this.total) {
      this.lastBytes = current;
      return true;
    }
    if (current - this.lastBytes <= step) return false;
    const now = Date.now();
    if (now - this.lastTime < 100) return false;
    this.lastBytes = current;
    this.lastTime = now;
    return true;
  }
}
