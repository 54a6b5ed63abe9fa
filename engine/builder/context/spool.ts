/**
 * Where an uploaded context's bytes wait while the build reads from them:
 * in memory up to a limit (most contexts: no disk write at all, which is
 * most of a rebuild's cost), spilled to one file under the build's folder
 * beyond it. Reads are by offset and length, as the index records them.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';

export class Spool {
  private chunks: Buffer[] = [];
  /** Start offset of each chunk. */
  private starts: number[] = [];
  private memBytes = 0;
  private fd: number | undefined;
  private size = 0;

  constructor(
    readonly path: string,
    /** Bytes kept in memory before everything goes to the file. */
    private readonly memoryLimit: number,
  ) {}

  get onDisk(): boolean {
    return this.fd !== undefined;
  }

  get length(): number {
    return this.size;
  }

  /** A sink for the upload's bytes, in order. */
  writable(): Writable {
    return new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        const p = this.append(chunk);
        if (p) p.then(() => cb(), cb);
        else cb();
      },
      writev: (list, cb) => {
        void (async () => {
          for (const { chunk } of list) await this.append(chunk as Buffer);
        })().then(() => cb(), cb);
      },
    });
  }

  /** Appends the next bytes of the upload. */
  append(chunk: Buffer): Promise<void> | void {
    if (this.fd === undefined && this.memBytes + chunk.length <= this.memoryLimit) {
      this.starts.push(this.size);
      this.chunks.push(chunk);
      this.memBytes += chunk.length;
      this.size += chunk.length;
      return;
    }
    return this.appendToFile(chunk);
  }

  private async appendToFile(chunk: Buffer): Promise<void> {
    if (this.fd === undefined) {
      this.fd = fs.openSync(this.path, 'w+', 0o600);
      for (const c of this.chunks) await writeAll(this.fd, c);
      this.chunks = [];
      this.starts = [];
      this.memBytes = 0;
    }
    await writeAll(this.fd, chunk);
    this.size += chunk.length;
  }

  /** The bytes [offset, offset+length) as a stream. */
  read(offset: number, length: number): Readable {
    if (length <= 0) return Readable.from([]);
    if (this.fd !== undefined) return fs.createReadStream('', { fd: fs.openSync(this.path, 'r'), start: offset, end: offset + length - 1, highWaterMark: 1 << 20 });
    return Readable.from(this.slices(offset, length), { objectMode: false });
  }

  private *slices(offset: number, length: number): Generator<Buffer> {
    // The chunk holding offset (binary search on the start offsets).
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    let left = length;
    for (let i = lo; i < this.chunks.length && left > 0; i++) {
      const c = this.chunks[i]!;
      const from = i === lo ? offset - this.starts[i]! : 0;
      const n = Math.min(c.length - from, left);
      yield c.subarray(from, from + n);
      left -= n;
    }
  }

  /** Hands the bytes [offset, offset+length) to fn in pieces (no copies while in memory). */
  async feed(offset: number, length: number, fn: (chunk: Buffer) => void): Promise<void> {
    if (this.fd === undefined) {
      for (const s of this.slices(offset, length)) fn(s);
      return;
    }
    const buf = Buffer.allocUnsafe(Math.min(length, 1 << 20));
    let done = 0;
    while (done < length) {
      const n = await new Promise<number>((resolve, reject) => fs.read(this.fd!, buf, 0, Math.min(buf.length, length - done), offset + done, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      if (n === 0) throw new Error('the spooled context is truncated');
      fn(buf.subarray(0, n));
      done += n;
    }
  }

  async readAll(offset: number, length: number): Promise<Buffer> {
    if (this.fd === undefined) return Buffer.concat([...this.slices(offset, length)]);
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw new Error('the spooled context is truncated');
      done += n;
    }
    return buf;
  }

  async close(): Promise<void> {
    this.chunks = [];
    this.starts = [];
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    await fsp.rm(this.path, { force: true });
  }
}

async function writeAll(fd: number, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    off += await new Promise<number>((resolve, reject) => fs.write(fd, chunk, off, chunk.length - off, null, (err, n) => (err ? reject(err) : resolve(n))));
  }
}
