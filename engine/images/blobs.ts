/**
 * Content-addressed blob store: configs, manifests and layer archives kept
 * by sha256 digest. Writes go to a temp file while hashing and are published
 * by rename only when the digest is known (and matches, when one is expected),
 * so a crash or a corrupt download never leaves a half blob under a digest.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, NotFoundError } from '../errdefs.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

const digestRe = /^sha256:[a-f0-9]{64}$/;

export function sha256Digest(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function assertDigest(digest: string): void {
  if (!digestRe.test(digest)) throw new InvalidParameterError(`invalid digest ${JSON.stringify(digest)}`);
}

export class DigestMismatchError extends InvalidParameterError {}

/** A blob being written: feed `stream`, then `commit()` or `abort()`. */
export class BlobWriter {
  readonly stream: Writable;
  private readonly hash = createHash('sha256');
  private size = 0;
  private readonly fd: number;

  constructor(
    private readonly store: BlobStore,
    private readonly tmp: string,
  ) {
    this.fd = fs.openSync(tmp, 'w', 0o600);
    this.stream = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.hash.update(chunk);
        this.size += chunk.length;
        fs.write(this.fd, chunk, 0, chunk.length, null, (err) => cb(err));
      },
      writev: (chunks, cb) => {
        const bufs = chunks.map((c) => c.chunk as Buffer);
        for (const b of bufs) {
          this.hash.update(b);
          this.size += b.length;
        }
        fs.writev(this.fd, bufs, (err) => cb(err));
      },
    });
  }

  get written(): number {
    return this.size;
  }

  /** Publishes the blob (after the stream finished); fails and discards it if `expected` is given and differs. */
  async commit(expected?: string): Promise<BlobInfo> {
    fs.fdatasyncSync(this.fd);
    fs.closeSync(this.fd);
    const digest = 'sha256:' + this.hash.digest('hex');
    if (expected !== undefined && expected !== digest) {
      await fsp.rm(this.tmp, { force: true });
      throw new DigestMismatchError(`digest mismatch: expected ${expected}, got ${digest}`);
    }
    await fsp.rename(this.tmp, this.store.path(digest));
    return { digest, size: this.size };
  }

  async abort(): Promise<void> {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    await fsp.rm(this.tmp, { force: true });
  }
}

export class BlobStore {
  private readonly dir: string;
  private readonly tmpDir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'sha256');
    this.tmpDir = path.join(root, 'tmp');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    // Anything in tmp was being written when the daemon stopped.
    await fsp.rm(this.tmpDir, { recursive: true, force: true });
    await fsp.mkdir(this.tmpDir, { recursive: true });
  }

  path(digest: string): string {
    assertDigest(digest);
    return path.join(this.dir, digest.slice(7));
  }

  /** A temp path on the same filesystem (for staging files that are later adopted). */
  tempPath(prefix: string): string {
    return path.join(this.tmpDir, `${prefix}-${randomBytes(8).toString('hex')}`);
  }

  has(digest: string): boolean {
    return fs.existsSync(this.path(digest));
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const st = await fsp.stat(this.path(digest));
      return { digest, size: st.size };
    } catch {
      return undefined;
    }
  }

  writer(): BlobWriter {
    return new BlobWriter(this, this.tempPath('blob'));
  }

  async put(data: Uint8Array | string, expected?: string): Promise<BlobInfo> {
    const digest = sha256Digest(data);
    if (expected !== undefined && expected !== digest) throw new DigestMismatchError(`digest mismatch: expected ${expected}, got ${digest}`);
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (this.has(digest)) return { digest, size };
    const w = this.writer();
    w.stream.end(data);
    await new Promise<void>((resolve, reject) => {
      w.stream.once('finish', resolve);
      w.stream.once('error', reject);
    });
    return w.commit(expected);
  }

  async putStream(input: Readable, expected?: string): Promise<BlobInfo> {
    const w = this.writer();
    try {
      await pipeline(input, w.stream);
      return await w.commit(expected);
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  /** Moves an already-written file into the store under its digest (which is verified). */
  async adopt(file: string, expected?: string): Promise<BlobInfo> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    const digest = 'sha256:' + hash.digest('hex');
    if (expected !== undefined && expected !== digest) throw new DigestMismatchError(`digest mismatch: expected ${expected}, got ${digest}`);
    await fsp.rename(file, this.path(digest));
    return { digest, size };
  }

  /**
   * Moves a file into the store under a digest the caller computed while
   * writing it (a staged upload), without reading it again.
   */
  async adoptHashed(file: string, digest: string): Promise<BlobInfo> {
    const st = await fsp.stat(file);
    await fsp.rename(file, this.path(digest));
    return { digest, size: st.size };
  }

  async read(digest: string, maxSize = 16 * 1024 * 1024): Promise<Buffer> {
    const p = this.path(digest);
    let st;
    try {
      st = await fsp.stat(p);
    } catch {
      throw new NotFoundError(`blob ${digest} not found`);
    }
    if (st.size > maxSize) throw new InvalidParameterError(`blob ${digest} is too large (${st.size} bytes)`);
    return fsp.readFile(p);
  }

  createReadStream(digest: string): Readable {
    return fs.createReadStream(this.path(digest));
  }

  async delete(digest: string): Promise<void> {
    await fsp.rm(this.path(digest), { force: true });
  }

  async list(): Promise<string[]> {
    return (await fsp.readdir(this.dir)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }
}
