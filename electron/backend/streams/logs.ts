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
import type { StreamEventOf, StreamParamsOf } from '../../contract/api.js';
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
export class LineSplitter {
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

export interface LogLine {
  time: LogTime | undefined;
  /** The line as the engine sent it ("<timestamp> <text>\n"). */
  raw: string;
  /** Where the text starts (after the timestamp and its space). */
  textAt: number;
}

export function parseLine(line: string): LogLine {
  const sp = line.indexOf(' ');
  const time = sp > 0 ? parseLogTime(line.slice(0, sp)) : undefined;
  return { time, raw: line, textAt: time ? sp + 1 : 0 };
}

/** Splits a finite logs response (multiplexed unless TTY) into lines, stdout and stderr in order of arrival. */
export function splitResponse(docker: Docker, data: Buffer, tty: boolean): Promise<LogLine[]> {
  return new Promise((resolve) => {
    const lines: LogLine[] = [];
    const push = (l: string) => lines.push(parseLine(l));
    const out = new LineSplitter();
    if (tty) {
      out.push(data, push);
      out.end(push);
      resolve(lines);
      return;
    }
    const err = new LineSplitter();
    const src = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on('data', (c: Buffer) => out.push(c, push));
    stderr.on('data', (c: Buffer) => err.push(c, push));
    docker.modem.demuxStream(src, stdout, stderr);
    src.on('end', () => {
      out.end(push);
      err.end(push);
      resolve(lines);
    });
    src.end(data);
  });
}

/**
 * Reads a following logs stream (multiplexed unless TTY) line by line until it ends, or until the
 * signal aborts it (then it resolves: the viewer went away, nothing failed).
 */
export function followLines(docker: Docker, live: Readable, tty: boolean, onLine: (l: LogLine) => void, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const out = new LineSplitter();
    const err = new LineSplitter();
    const push = (line: string) => onLine(parseLine(line));
    if (tty) live.on('data', (c: Buffer) => out.push(c, push));
    else {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      stdout.on('data', (c: Buffer) => out.push(c, push));
      stderr.on('data', (c: Buffer) => err.push(c, push));
      docker.modem.demuxStream(live, stdout, stderr);
    }
    const done = () => {
      out.end(push);
      err.end(push);
      resolve();
    };
    live.once('end', done);
    live.once('close', done);
    live.once('error', (e) => (signal.aborted ? resolve() : reject(e)));
    signal.addEventListener('abort', () => live.destroy(), { once: true });
  });
}

export function plusOneNano(t: LogTime): LogTime {
  return t.nano >= 999_999_999 ? { sec: t.sec + 1, nano: 0 } : { sec: t.sec, nano: t.nano + 1 };
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
  let lastTime: LogTime | undefined;
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

  const emitLine = (l: LogLine) => {
    if (l.time && (!lastTime || compareLogTime(l.time, lastTime) > 0)) lastTime = l.time;
    const text = p.timestamps || !l.time ? l.raw : l.raw.slice(l.textAt);
    batch.push(text);
    batchBytes += Buffer.byteLength(text);
    if (batchBytes >= BATCH_BYTES) flush();
    else flushTimer ??= setTimeout(flush, FLUSH_MS);
  };

  const base: Record<string, unknown> = {
    stdout: true,
    stderr: true,
    timestamps: true,
    abortSignal: sink.signal,
    ...(p.since !== undefined ? { since: p.since } : {}),
  };
  try {
    const fetchLines = async (q: Record<string, unknown>): Promise<LogLine[]> => {
      const data = await container.logs({ ...base, ...q, follow: false } as unknown as Docker.ContainerLogsOptions & { follow: false });
      return splitResponse(docker, Buffer.isBuffer(data) ? data : Buffer.from(String(data)), tty);
    };
    let lines: LogLine[];
    if (!until) {
      // The tail first (a finite response), so the view knows where its history begins.
      lines = await fetchLines(p.tail === 'all' ? {} : { tail: p.tail });
    } else {
      // An older page. Engines apply `tail` before `until` (as dockerd does), so tail cannot page
      // backwards: ask for growing time windows ending at `until` until one holds enough lines.
      // The lines at exactly `until` the client already shows are the last ones of the window.
      const created = Math.floor(Date.parse(info.Created) / 1000);
      const want = p.tail === 'all' ? Number.POSITIVE_INFINITY : p.tail;
      for (let windowSec = 1; ; windowSec *= 8) {
        const sinceSec = until.sec - windowSec;
        const whole = p.tail === 'all' || sinceSec <= created;
        const got = (await fetchLines({ until: formatLogTime(until), ...(whole ? {} : { since: formatLogTime({ sec: sinceSec, nano: until.nano }) }) })).filter(
          (l) => !l.time || compareLogTime(l.time, until) <= 0,
        );
        let drop = p.haveAtUntil;
        for (let i = got.length - 1; i >= 0 && drop > 0; i--) {
          const t = got[i]!.time;
          if (!t || compareLogTime(t, until) !== 0) break;
          got.splice(i, 1);
          drop--;
        }
        lines = got.length > want ? got.slice(got.length - want) : got;
        if (got.length >= want || whole || sink.signal.aborted) break;
      }
    }
    for (const l of lines) emitLine(l);
    flush();
    const first = lines.find((l) => l.time)?.time;
    const caughtUp: StreamEventOf<'containers.logs'> = { type: 'caught-up' };
    if (first) {
      caughtUp.firstTime = formatLogTime(first);
      caughtUp.firstCount = lines.filter((l) => l.time && compareLogTime(l.time, first) === 0).length;
    }
    sink.emit(caughtUp);
    if (!p.follow || until || sink.signal.aborted) return;
    // Then follow from just after the last line seen: an engine stamps a batch of lines with one time,
    // and a batch the tail saw part of was in the log in full.
    const followQuery: Record<string, unknown> = { ...base, follow: true };
    if (lastTime) followQuery.since = formatLogTime(plusOneNano(lastTime));
    else if (p.tail === 0) followQuery.tail = 0;
    // No lines yet: everything since the container was created is new (no gap between the two requests).
    else followQuery.since = String(Math.floor(Date.parse(info.Created) / 1000));
    const live = (await container.logs(followQuery as unknown as Docker.ContainerLogsOptions & { follow: true })) as Readable;
    source = live;
    await followLines(docker, live, tty, emitLine, sink.signal);
    flush();
  } catch (err) {
    if (sink.signal.aborted) return;
    throw err;
  } finally {
    clearTimeout(flushTimer);
  }
}
