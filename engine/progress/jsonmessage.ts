/**
 * Docker's JSON message stream (moby's pkg/jsonmessage), shared by pull, push and load: one
 * JSON object per line in the field order of moby's JSONMessage (status, progressDetail,
 * progress, id, errorDetail, error, aux), and the `progress` bar string rendered as the
 * daemon's JSONProgress.String() does (200-column width, go-units sizes). No HTTP here: lines
 * go to a JsonLineOutput that the API layer provides.
 */
import { humanSize } from '../system/units.js';

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

/**
 * Where a stream of JSON lines goes. The API layer's implementation begins the HTTP response
 * with the first line, so an operation that fails before any output can still answer with a
 * plain HTTP error (which is what makes `docker run` print "Unable to find image").
 */
export interface JsonLineOutput {
  write(line: string): void;
  /** True once the first line went out (errors must then go in-band). */
  readonly started: boolean;
  /** Bytes written but not yet taken by the client. */
  readonly buffered: number;
  /** Ends the stream (beginning it if nothing was written). */
  end(): void;
}
