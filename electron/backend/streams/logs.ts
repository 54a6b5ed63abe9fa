/**
 * Container logs for the Logs tab: the last N lines, then (when following)
 * new lines as they are written, batched into few messages and paused while
 * the client has more than a window of unacknowledged bytes — so a container
 * writing 50,000 lines/s cannot flood the renderer or grow memory without
 * bound. Lines are always fetched with timestamps, which give exact
 * boundaries between the tail, the follow and "load older" pages; they are
 * stripped again unless the user asked for them.
 */
import { StringDecoder } from 'node:string_decoder';
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { StreamParamsOf } from '../../contract/api.js';
import type { StreamSink } from '../rpc/session.js';

/** Bytes in flight before the producer is paused, and the level at which it resumes. */
export const LOG_WINDOW_HIGH = 1024 * 1024;
export const LOG_WINDOW_LOW = 256 * 1024;
/** A batch is sent when it reaches this size or after FLUSH_MS. */
const BATCH_BYTES = 64 * 1024;
const FLUSH_MS = 16;

/** An RFC 3339 timestamp as [seconds since epoch, nanoseconds], comparable and usable as since/until. */
export interface LogTime {
  sec: number;
  nano: number;
}

export function parseLogTime(ts: string): LogTime | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return { sec: Math.floor(ms / 1000), nano: Number((m[2] ?? '').padEnd(9, '0')) };
}

export function compareLogTime(a: LogTime, b: LogTime): number {
  return a.sec - b.sec || a.nano - b.nano;
}

/** seconds.nanoseconds, the form the API's since/until accept without losing precision. */
export function formatLogTime(t: LogTime): string {
  return `${t.sec}.${String(t.nano).padStart(9, '0')}`;
}

/** Parses "seconds[.nanoseconds]" (what the contract carries). */
export function stringToLogTime(s: string): LogTime {
  const [sec, frac = ''] = s.split('.');
  return { sec: Number(sec), nano: Number(frac.padEnd(9, '0')) };
}

/** Splits a byte stream into lines ("<timestamp> <text>\n"), keeping a partial line until it completes. */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';
  push(chunk: Buffer | string, out: (line: string) => void): void {
    this.rest += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.rest.indexOf('\n')) >= 0) {
      out(this.rest.slice(0, nl + 1));
      this.rest = this.rest.slice(nl + 1);
    }
  }
  end(out: (line: string) => void): void {
    this.rest += this.decoder.end();
    if (this.rest) out(this.rest.endsWith('\n') ? this.rest : `${this.rest}\n`);
    this.rest = '';
  }
}

export async function streamLogs(docker: Docker, p: StreamParamsOf<'containers.logs'>, sink: StreamSink<'containers.logs'>): Promise<void> {
  const container = docker.getContainer(p.id);
  const info = await container.inspect();
  const tty = !!info.Config?.Tty;
  const until = p.until !== undefined ? stringToLogTime(p.until) : undefined;

  let batch: string[] = [];
  let batchBytes = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let sent = 0;
  let acked = 0;
  let firstTime: LogTime | undefined;
  let lastTime: LogTime | undefined;
  /** Lines at exactly lastTime already sent: the follow request starts at lastTime inclusive. */
  let sentAtLast = 0;
  let skipAtLast = 0;
  let source: Readable | undefined;
  let paused = false;

  const flush = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (batch.length === 0) return;
    const data = batch.join('');
    batch = [];
    sink.emit({ type: 'data', data, bytes: batchBytes });
    sent += batchBytes;
    batchBytes = 0;
    if (!paused && source && sent - acked > LOG_WINDOW_HIGH) {
      paused = true;
      source.pause();
    }
  };

  sink.onInput(({ ack }) => {
    acked = Math.max(acked, Math.min(ack, sent));
    if (paused && sent - acked < LOG_WINDOW_LOW) {
      paused = false;
      source?.resume();
    }
  });

  const onLine = (line: string) => {
    const sp = line.indexOf(' ');
    const t = sp > 0 ? parseLogTime(line.slice(0, sp)) : undefined;
    if (t) {
      if (until && compareLogTime(t, until) >= 0) return;
      if (lastTime && compareLogTime(t, lastTime) === 0) {
        if (skipAtLast > 0) {
          skipAtLast--;
          return;
        }
        sentAtLast++;
      } else if (!lastTime || compareLogTime(t, lastTime) > 0) {
        lastTime = t;
        sentAtLast = 1;
        skipAtLast = 0;
      }
      firstTime ??= t;
    }
    const text = t && !p.timestamps ? line.slice(sp + 1) : line;
    batch.push(text);
    batchBytes += Buffer.byteLength(text);
    if (batchBytes >= BATCH_BYTES) flush();
    else flushTimer ??= setTimeout(flush, FLUSH_MS);
  };

  /** Feeds a logs response (multiplexed unless the container has a TTY) through the line splitters. */
  const consume = (stream: Readable): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const out = new LineSplitter();
      const err = new LineSplitter();
      source = stream;
      if (tty) stream.on('data', (c: Buffer) => out.push(c, onLine));
      else {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        stdout.on('data', (c: Buffer) => out.push(c, onLine));
        stderr.on('data', (c: Buffer) => err.push(c, onLine));
        docker.modem.demuxStream(stream, stdout, stderr);
      }
      const done = () => {
        out.end(onLine);
        err.end(onLine);
        resolve();
      };
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', (e) => (sink.signal.aborted ? resolve() : reject(e)));
      sink.signal.addEventListener('abort', () => stream.destroy(), { once: true });
    });

  const query = {
    stdout: true,
    stderr: true,
    timestamps: true,
    abortSignal: sink.signal,
    ...(p.tail === 'all' ? {} : { tail: p.tail }),
    ...(p.since !== undefined ? { since: p.since as unknown as number } : {}),
    ...(until ? { until: formatLogTime(until) as unknown as number } : {}),
  };
  try {
    // The tail first (a finite response), so the view knows where its history begins.
    const initial = await container.logs({ ...query, follow: false } as Docker.ContainerLogsOptions & { follow: false });
    const stream = new PassThrough();
    stream.end(initial);
    await consume(stream);
    flush();
    const caughtUp: { type: 'caught-up'; firstTime?: string } = { type: 'caught-up' };
    if (firstTime) caughtUp.firstTime = formatLogTime(firstTime);
    sink.emit(caughtUp);
    if (!p.follow || until || sink.signal.aborted) return;
    // Then follow from the last line seen (since is inclusive: skip the lines at that instant already sent).
    skipAtLast = sentAtLast;
    const followQuery: Record<string, unknown> = { ...query, follow: true };
    delete followQuery.tail;
    if (lastTime) followQuery.since = formatLogTime(lastTime);
    else if (p.tail === 0) followQuery.tail = 0;
    // No lines yet: everything since the container was created is new (no gap between the two requests).
    else followQuery.since = String(Math.floor(Date.parse(info.Created) / 1000));
    const live = (await container.logs(followQuery as unknown as Docker.ContainerLogsOptions & { follow: true })) as Readable;
    await consume(live);
    flush();
  } catch (err) {
    if (sink.signal.aborted) return;
    throw err;
  } finally {
    clearTimeout(flushTimer);
  }
}
