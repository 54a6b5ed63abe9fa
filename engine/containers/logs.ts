/**
 * Container logs as conmon writes them (k8s-file: "<RFC3339Nano> <stream>
 * <P|F> <text>" per line, rotated as log, log.1, log.2 ...), read back with
 * json-file semantics: tail, since/until, timestamps, follow across
 * rotations, ending when the container stops. Used by `docker logs`, by
 * attach (which follows from the end) and by exec sessions.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export const STDOUT = 1;
export const STDERR = 2;

export interface LogEntry {
  stream: 1 | 2;
  /** "2024-01-01T00:00:00.123456789" (UTC, no zone). */
  time: string;
  partial: boolean;
  content: Buffer;
}

export interface ReadOptions {
  stdout: boolean;
  stderr: boolean;
  /** Entries at or after this UTC time ("YYYY-MM-DDTHH:MM:SS.nnnnnnnnn"). */
  since?: string;
  /** Entries at or before this time. */
  until?: string;
  /** Last N entries (undefined: all). */
  tail?: number;
  follow: boolean;
  /** Fill LogEntry.time (timestamps); since/until imply it. */
  withTime?: boolean;
  /** Start at this byte offset of the live file (attach: the end as it was before any input was forwarded). */
  startOffset?: number;
}

/**
 * Where the sink writes; returns a promise when the consumer needs time
 * (backpressure). The entry object and its content are reused for the next
 * line: copy what you keep.
 */
export type EntrySink = (e: LogEntry) => void | Promise<void>;

/** Log file paths, oldest first. */
export function logFiles(logPath: string, maxFiles: number): string[] {
  const out: string[] = [];
  for (let i = Math.max(maxFiles, 1) - 1; i >= 1; i--) out.push(`${logPath}.${i}`);
  out.push(logPath);
  return out.filter((p) => fs.existsSync(p));
}

const SPACE = 0x20;
const NL = 0x0a;

/** Parses one log line (without its newline). */
export function parseLogLine(line: Buffer): LogEntry | undefined {
  const e: LogEntry = { stream: STDOUT, time: '', partial: false, content: line };
  return parseInto(line, e, true) ? e : undefined;
}

/**
 * Fills `e` from a line, allocating nothing unless the time is wanted
 * (`docker logs` without -t/--since/--until never needs it).
 */
function parseInto(line: Buffer, e: LogEntry, withTime: boolean): boolean {
  const sp1 = line.indexOf(SPACE);
  if (sp1 < 20 || line.length < sp1 + 10) return false;
  // "stdout" and "stderr" differ at their fourth letter.
  const c = line[sp1 + 4];
  if (line[sp1 + 1] !== 0x73 /* s */ || line[sp1 + 7] !== SPACE) return false;
  if (c === 0x6f /* o */) e.stream = STDOUT;
  else if (c === 0x65 /* e */) e.stream = STDERR;
  else return false;
  e.partial = line[sp1 + 8] === 0x50 /* P */;
  e.content = line.subarray(Math.min(sp1 + 10, line.length));
  e.time = withTime ? utcTime(line.toString('latin1', 0, sp1)) : '';
  return true;
}

/** conmon writes local time with an offset; we run it with TZ=UTC, so this is normally a slice. */
function utcTime(ts: string): string {
  if (ts.endsWith('+00:00') || ts.endsWith('Z')) return ts.slice(0, 29);
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) return ts.slice(0, 29);
  const frac = /\.(\d+)/.exec(ts)?.[1]?.padEnd(9, '0').slice(0, 9) ?? '000000000';
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac;
}

/** Converts nanoseconds since the epoch to the log time format for comparisons. */
export function nanosToLogTime(n: bigint): string {
  const ms = Number(n / 1_000_000n);
  return new Date(ms).toISOString().slice(0, 19) + '.' + (n % 1_000_000_000n).toString().padStart(9, '0');
}

/** Finds the byte offsets where the last `n` lines start, searching files newest first. */
async function tailStart(files: string[], n: number): Promise<{ fileIndex: number; offset: number }> {
  // Scanning backwards, every newline except a file's trailing one starts a line.
  let needed = n;
  for (let fi = files.length - 1; fi >= 0; fi--) {
    const fh = await fsp.open(files[fi]!, 'r');
    try {
      const { size } = await fh.stat();
      if (size === 0) continue;
      const block = Buffer.allocUnsafe(64 * 1024);
      let pos = size;
      while (pos > 0) {
        const len = Math.min(block.length, pos);
        pos -= len;
        await fh.read(block, 0, len, pos);
        for (let i = len - 1; i >= 0; i--) {
          if (block[i] !== NL || pos + i === size - 1) continue;
          if (--needed === 0) return { fileIndex: fi, offset: pos + i + 1 };
        }
      }
      // The file's first line is a line too.
      if (--needed === 0) return { fileIndex: fi, offset: 0 };
    } finally {
      await fh.close();
    }
  }
  return { fileIndex: 0, offset: 0 };
}

/** Splits a byte stream into lines, keeping the incomplete tail for the next chunk. */
class LineSplitter {
  private carry: Buffer | undefined;
  push(chunk: Buffer, onLine: (line: Buffer) => void): void {
    let start = 0;
    let data = chunk;
    if (this.carry) {
      data = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    for (;;) {
      const nl = data.indexOf(NL, start);
      if (nl < 0) break;
      onLine(data.subarray(start, nl));
      start = nl + 1;
    }
    if (start < data.length) this.carry = Buffer.from(data.subarray(start));
  }
  get pending(): number {
    return this.carry?.length ?? 0;
  }
}

export interface FollowControl {
  /** Resolves when the writer (container or exec) has stopped for good. */
  stopped: Promise<void>;
  /** Aborts reading (client went away). */
  signal: AbortSignal;
}

/**
 * Streams log entries to sink. Without follow it stops at the current end;
 * with follow it keeps reading (across rotations) until `stopped` resolves
 * and the files are drained, `until` passes, or the signal aborts.
 */
export async function readLogs(logPath: string, maxFiles: number, opts: ReadOptions, sink: EntrySink, ctl?: FollowControl): Promise<void> {
  let files = logFiles(logPath, maxFiles);
  let startFile = 0;
  let startOffset = 0;
  if (opts.startOffset !== undefined && files.length > 0) {
    startFile = files.length - 1;
    startOffset = opts.startOffset;
  } else if (opts.tail !== undefined && opts.tail >= 0 && files.length > 0) {
    if (opts.tail === 0) {
      startFile = files.length - 1;
      startOffset = (await fsp.stat(files[startFile]!).catch(() => ({ size: 0 }))).size;
    } else {
      const t = await tailStart(files, opts.tail);
      startFile = t.fileIndex;
      startOffset = t.offset;
    }
  }
  const pastUntil = (e: LogEntry) => opts.until !== undefined && e.time > opts.until;
  let done = false;
  // Synchronous unless the sink asks us to wait: a promise per line would cost more than the parsing.
  const withTime = opts.withTime === true || opts.since !== undefined || opts.until !== undefined;
  const e: LogEntry = { stream: STDOUT, time: '', partial: false, content: Buffer.alloc(0) };
  const deliver = (line: Buffer): void | Promise<void> => {
    if (done) return;
    if (!parseInto(line, e, withTime)) return;
    if (pastUntil(e)) {
      done = true;
      return;
    }
    if (opts.since !== undefined && e.time < opts.since) return;
    if (e.stream === STDOUT ? !opts.stdout : !opts.stderr) return;
    return sink(e);
  };

  // Rotated files (complete) first, then the live file.
  const readFileFrom = async (file: string, offset: number): Promise<{ fd: fs.promises.FileHandle; pos: number; splitter: LineSplitter } | undefined> => {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fsp.open(file, 'r');
    } catch {
      return undefined;
    }
    const splitter = new LineSplitter();
    const pos = await drain(fh, offset, splitter, deliver, ctl?.signal);
    return { fd: fh, pos, splitter };
  };

  for (let i = startFile; i < files.length - 1 && !done; i++) {
    const r = await readFileFrom(files[i]!, i === startFile ? startOffset : 0);
    await r?.fd.close();
  }
  if (files.length === 0) {
    if (!opts.follow || !ctl) return;
    files = [logPath];
    startFile = 0;
  }
  const livePath = logPath;
  let cur = await readFileFrom(livePath, startFile === files.length - 1 ? startOffset : 0);
  if (!opts.follow || !ctl || done) {
    await cur?.fd.close();
    return;
  }

  // Follow: wake on writes in the log's directory, switch files when the monitor reopens after a rotation.
  let wake: (() => void) | undefined;
  let dirty = false;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  const watcher = fs.watch(path.dirname(livePath), { persistent: false }, (_ev, name) => {
    if (!name || name === path.basename(livePath) || name.startsWith(path.basename(livePath))) poke();
  });
  const timer = setInterval(poke, 1000);
  timer.unref();
  let stopped = false;
  void ctl.stopped.then(() => {
    stopped = true;
    poke();
  });
  const aborted = () => ctl.signal.aborted;
  ctl.signal.addEventListener('abort', poke, { once: true });
  try {
    while (!done && !aborted()) {
      if (!dirty) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      dirty = false;
      const wasStopped = stopped;
      if (cur) cur.pos = await drain(cur.fd, cur.pos, cur.splitter, deliver, ctl.signal);
      // Rotated? The path now names a different file than the one we hold.
      const st = await fsp.stat(livePath).catch(() => undefined);
      const held = cur ? await cur.fd.stat().catch(() => undefined) : undefined;
      if (st && (!held || st.ino !== held.ino)) {
        if (cur) {
          cur.pos = await drain(cur.fd, cur.pos, cur.splitter, deliver, ctl.signal);
          await cur.fd.close();
        }
        cur = await readFileFrom(livePath, 0);
        continue;
      }
      if (wasStopped) break;
      if (opts.until !== undefined && nanosToLogTime(BigInt(Date.now()) * 1_000_000n) > opts.until) break;
    }
  } finally {
    watcher.close();
    clearInterval(timer);
    await cur?.fd.close();
  }
}

/**
 * Reads from `from` to the current end. Lines are views into a reused buffer:
 * sinks must copy what they keep (the framing writer does).
 */
async function drain(fh: fs.promises.FileHandle, from: number, splitter: LineSplitter, deliver: (line: Buffer) => void | Promise<void>, signal?: AbortSignal): Promise<number> {
  const buf = Buffer.allocUnsafe(256 * 1024);
  let pos = from;
  const lines: Buffer[] = [];
  for (;;) {
    if (signal?.aborted) return pos;
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return pos;
    pos += bytesRead;
    lines.length = 0;
    splitter.push(buf.subarray(0, bytesRead), (l) => lines.push(l));
    for (const l of lines) {
      const p = deliver(l);
      if (p) await p;
    }
  }
}

/** The live log file's current size (0 if it does not exist yet). */
export function liveLogSize(logPath: string): number {
  try {
    return fs.statSync(logPath).size;
  } catch {
    return 0;
  }
}
