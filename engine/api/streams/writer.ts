/**
 * Buffered output for attach, exec and log streams: frames (or raw TTY
 * bytes) are packed into large writes, and the writer waits for 'drain'
 * when the client reads slowly, so memory stays bounded.
 */
import type { Writable } from 'node:stream';

const FLUSH_AT = 64 * 1024;

export class StreamWriter {
  private buf = Buffer.allocUnsafe(FLUSH_AT * 2);
  private len = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly out: Writable,
    /** Raw bytes (TTY) instead of multiplexed frames. */
    private readonly raw: boolean,
  ) {
    out.once('close', () => (this.closed = true));
    out.once('error', () => (this.closed = true));
  }

  get isClosed(): boolean {
    return this.closed || this.out.destroyed || this.out.writableEnded;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** One log line: [prefix] content [newline] — the hot path of logs and attach, without array allocations. */
  writeLine(stream: number, content: Buffer, newline: boolean, prefix?: string): void | Promise<void> {
    if (this.isClosed) return;
    const pre = prefix === undefined ? 0 : prefix.length;
    const size = pre + content.length + (newline ? 1 : 0);
    if (size === 0) return;
    this.header(stream, size);
    // Prefixes are ASCII timestamps: one byte per character.
    if (prefix !== undefined) this.len += this.buf.write(prefix, this.len, 'latin1');
    content.copy(this.buf, this.len);
    this.len += content.length;
    if (newline) this.buf[this.len++] = 0x0a;
    return this.afterWrite();
  }

  /** Makes room for a message of `size` bytes and writes its stdcopy header (none for raw TTY streams). */
  private header(stream: number, size: number): void {
    this.ensure(size + 8);
    if (this.raw) return;
    this.buf[this.len] = stream;
    this.buf[this.len + 1] = 0;
    this.buf[this.len + 2] = 0;
    this.buf[this.len + 3] = 0;
    this.buf.writeUInt32BE(size, this.len + 4);
    this.len += 8;
  }

  private afterWrite(): void | Promise<void> {
    if (this.len >= FLUSH_AT) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
  }

  /** Queues one message; resolves later only when the consumer is slow. */
  write(stream: number, ...parts: Array<Buffer | string>): void | Promise<void> {
    if (this.isClosed) return;
    let size = 0;
    for (const p of parts) size += typeof p === 'string' ? Buffer.byteLength(p) : p.length;
    if (size === 0) return;
    this.header(stream, size);
    for (const p of parts) {
      if (typeof p === 'string') this.len += this.buf.write(p, this.len);
      else {
        p.copy(this.buf, this.len);
        this.len += p.length;
      }
    }
    return this.afterWrite();
  }

  /** Writes what is buffered; resolves when the socket can take more. */
  flush(): Promise<void> {
    if (this.len === 0 || this.isClosed) return Promise.resolve();
    const chunk = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    const ok = this.out.write(chunk);
    if (ok) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.once('drain', done);
      this.out.once('close', done);
    });
  }
}
