/**
 * Layer blob downloads shared by every pull in the daemon. A download is
 * keyed by blob digest, so concurrent pulls of images that share layers
 * fetch each blob once and all watch the same progress. At most
 * `max-concurrent-downloads` run at a time; transient failures are retried
 * `max-download-attempts` times with Docker's countdown, resuming with
 * `Range: bytes=N-`.
 *
 * Bytes land in a temp file in the blob store that only grows. Readers (the
 * layer extraction) follow it while it is written and see end-of-file only
 * after the digest has been verified, so nothing unverified is ever
 * registered; the verified file is then published into the blob store by
 * rename. A failed or abandoned download leaves nothing behind.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore } from '../images/blobs.js';
import type { Descriptor } from '../images/oci.js';
import type { Logger } from '../daemon/log.js';
import { BlobVerificationError, DoNotRetryError, isRetryable } from './errors.js';
import { sleepUnlessAborted } from './backoff.js';

/** Where a download gets its bytes: the registry, via the session of the pull that started it. */
export interface BlobSource {
  open(digest: string, offset: number, signal: AbortSignal): Promise<{ body: Readable; partial: boolean }>;
}

export type DownloadState = 'queued' | 'downloading' | 'verifying' | 'done' | 'failed';

export interface DownloadEvents {
  status: [action: string];
  progress: [current: number, total: number];
}

/** A limit that follows the daemon config (reloaded on SIGHUP). */
export class DynamicSemaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: () => number) {}

  /** True if a slot is free right now. */
  get available(): boolean {
    return this.waiting.length === 0 && this.active < Math.max(1, this.limit());
  }

  async acquire(signal: AbortSignal): Promise<() => void> {
    if (this.available) {
      this.active++;
    } else {
      // pump() counts the slot for us before waking us.
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(wake);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal.reason);
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(wake);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.pump();
    };
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.active < Math.max(1, this.limit())) {
      this.active++;
      this.waiting.shift()!();
    }
  }
}

export interface DownloadSettings {
  maxAttempts: () => number;
  /** Seconds to wait before retry n (1-based); Docker waits 5 s × n. */
  retryDelay: (attempt: number) => number;
}

/** One blob being fetched into the blob store. */
export class BlobDownload extends EventEmitter<DownloadEvents> {
  state: DownloadState = 'queued';
  /** Bytes written to the temp file and readable by followers. */
  available = 0;
  readonly tmpPath: string;
  readonly done: Promise<void>;
  error: Error | undefined;
  /** The hash matched: followers may see end-of-file. */
  verified = false;
  /** No download slot was free when this download was created. */
  readonly queuedBehindOthers: boolean;
  private readonly hash = createHash('sha256');
  private readonly controller = new AbortController();
  private watchers = 0;
  private readonly fd: number;
  /** Emits whenever `available` grows or the state settles. */
  readonly changed = new EventEmitter();

  constructor(
    readonly desc: Descriptor,
    private readonly blobs: BlobStore,
    private readonly source: BlobSource,
    private readonly slots: DynamicSemaphore,
    private readonly settings: DownloadSettings,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(0);
    this.changed.setMaxListeners(0);
    this.tmpPath = blobs.tempPath('pull');
    this.queuedBehindOthers = !slots.available;
    // Created up front so followers can open it before the transfer starts.
    this.fd = fs.openSync(this.tmpPath, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o600);
    this.done = this.run();
    this.done.catch(() => undefined);
  }

  get digest(): string {
    return this.desc.digest;
  }

  /** Where the verified blob is published. */
  get finalPath(): string {
    return this.blobs.path(this.desc.digest);
  }

  /** Registers interest; the download is cancelled when every watcher has released it. */
  attach(): () => void {
    this.watchers++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.watchers--;
      if (this.watchers === 0 && this.state !== 'done' && this.state !== 'failed') {
        this.controller.abort(new Error('download cancelled'));
      }
    };
  }

  private setState(s: DownloadState): void {
    this.state = s;
    this.changed.emit('change');
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    let release: (() => void) | undefined;
    try {
      release = await this.slots.acquire(signal);
      this.setState('downloading');
      await this.transfer(signal);
      this.emit('status', 'Verifying Checksum');
      this.setState('verifying');
      const digest = 'sha256:' + this.hash.digest('hex');
      if (digest !== this.desc.digest || this.available !== this.desc.size) throw new DoNotRetryError(new BlobVerificationError(this.desc.digest));
      // Followers may finish now: the bytes they read are the verified ones.
      this.verified = true;
      this.changed.emit('change');
      await new Promise<void>((resolve) => fs.fdatasync(this.fd, () => resolve()));
      fs.closeSync(this.fd);
      await fsp.rename(this.tmpPath, this.blobs.path(this.desc.digest));
      this.setState('done');
      this.emit('status', 'Download complete');
      // The slot goes to the next queued download only now: with max-concurrent-downloads 1 the
      // next one's "Download complete" came first when this fdatasync was slow.
      release();
      release = undefined;
    } catch (err) {
      release?.();
      const e = err instanceof DoNotRetryError ? err.inner : (err as Error);
      this.error = e;
      try {
        fs.closeSync(this.fd);
      } catch {
        /* closed already */
      }
      await fsp.rm(this.tmpPath, { force: true });
      this.setState('failed');
      throw e;
    }
  }

  private async transfer(signal: AbortSignal): Promise<void> {
    const size = this.desc.size;
    for (let attempt = 1; ; attempt++) {
      try {
        const { body, partial } = await this.source.open(this.desc.digest, this.available, signal);
        // A server that ignores Range resends from byte 0: skip what we have.
        let skip = partial ? 0 : this.available;
        try {
          for await (const raw of body as AsyncIterable<Buffer>) {
            let chunk = raw;
            if (skip > 0) {
              if (chunk.length <= skip) {
                skip -= chunk.length;
                continue;
              }
              chunk = chunk.subarray(skip);
              skip = 0;
            }
            if (this.available + chunk.length > size) throw new DoNotRetryError(new BlobVerificationError(this.desc.digest));
            this.hash.update(chunk);
            let off = 0;
            while (off < chunk.length) {
              const { bytesWritten } = await writeAt(this.fd, chunk, off, this.available + off);
              off += bytesWritten;
            }
            this.available += chunk.length;
            this.changed.emit('change');
            this.emit('progress', this.available, size);
          }
        } finally {
          body.destroy();
        }
        if (this.available < size) throw new Error('unexpected EOF');
        return;
      } catch (err) {
        if (signal.aborted) throw signal.reason ?? err;
        const max = this.settings.maxAttempts();
        if (!isRetryable(err) || attempt >= max) {
          if (attempt > 1) this.log.error('download failed', { digest: this.desc.digest, attempts: attempt, err: (err as Error).message });
          throw err;
        }
        this.log.info('download failed, retrying', { digest: this.desc.digest, attempt, max, err: (err as Error).message });
        for (let left = this.settings.retryDelay(attempt); left > 0; left--) {
          this.emit('status', `Retrying in ${left} second${left === 1 ? '' : 's'}`);
          await sleepUnlessAborted(1000, signal);
        }
      }
    }
  }

  /** A stream of the blob's bytes that ends only once they are verified. */
  reader(): Readable {
    return new FollowReader(this);
  }
}

function writeAt(fd: number, buf: Buffer, off: number, pos: number): Promise<{ bytesWritten: number }> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, buf.length - off, pos, (err, n) => (err ? reject(err) : resolve({ bytesWritten: n }))));
}

function readAt(fd: number, buf: Buffer, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

const READ_CHUNK = 1024 * 1024;

/** Reads a growing download file, waiting for more bytes until the download settles. */
class FollowReader extends Readable {
  private pos = 0;
  private fd: number | undefined;
  private waiting = false;
  private reading = false;
  private readonly onChange = () => {
    // A failed download ends its readers at once, even one paused by backpressure: its consumer
    // (a tar extractor that stopped reading) would otherwise wait forever for bytes or an end.
    if (this.dl.state === 'failed') {
      if (!this.destroyed) this.destroy(this.dl.error ?? new Error('download failed'));
      return;
    }
    if (this.waiting) {
      this.waiting = false;
      this._read();
    }
  };

  constructor(private readonly dl: BlobDownload) {
    super({ highWaterMark: 2 * READ_CHUNK });
    dl.changed.on('change', this.onChange);
  }

  private openFd(): number {
    if (this.fd !== undefined) return this.fd;
    try {
      this.fd = fs.openSync(this.dl.tmpPath, 'r');
    } catch {
      // Published meanwhile: read the final file.
      this.fd = fs.openSync(this.dl.finalPath, 'r');
    }
    return this.fd;
  }

  override _read(): void {
    // One read in flight at a time; Node calls _read again after each push.
    if (this.reading) return;
    const dl = this.dl;
    if (dl.state === 'failed') {
      this.destroy(dl.error ?? new Error('download failed'));
      return;
    }
    if (this.pos >= dl.available) {
      if (dl.verified && this.pos >= dl.desc.size) {
        this.push(null);
        return;
      }
      this.waiting = true;
      return;
    }
    let fd: number;
    try {
      fd = this.openFd();
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    const n = Math.min(READ_CHUNK, dl.available - this.pos);
    const buf = Buffer.allocUnsafe(n);
    this.reading = true;
    readAt(fd, buf, this.pos).then(
      (got) => {
        this.reading = false;
        if (this.destroyed) return;
        if (got === 0) {
          this.destroy(new Error(`unexpected end of downloaded blob ${dl.digest}`));
          return;
        }
        this.pos += got;
        this.push(got === n ? buf : buf.subarray(0, got));
      },
      (err: Error) => {
        this.reading = false;
        this.destroy(err);
      },
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.dl.changed.off('change', this.onChange);
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
    }
    cb(err);
  }
}

/** The daemon-wide set of in-flight downloads. */
export class DownloadManager {
  private readonly inflight = new Map<string, BlobDownload>();
  private readonly slots: DynamicSemaphore;

  constructor(
    private readonly blobs: BlobStore,
    private readonly settings: DownloadSettings & { maxConcurrent: () => number },
    private readonly log: Logger,
  ) {
    this.slots = new DynamicSemaphore(settings.maxConcurrent);
  }

  /** The running download of desc, or a new one fetching from source. */
  get(desc: Descriptor, source: BlobSource): { download: BlobDownload; shared: boolean } {
    const existing = this.inflight.get(desc.digest);
    if (existing && existing.state !== 'failed') return { download: existing, shared: true };
    const dl = new BlobDownload(desc, this.blobs, source, this.slots, this.settings, this.log);
    this.inflight.set(desc.digest, dl);
    const forget = () => {
      if (this.inflight.get(desc.digest) === dl) this.inflight.delete(desc.digest);
    };
    dl.done.then(forget, forget);
    return { download: dl, shared: false };
  }

  get size(): number {
    return this.inflight.size;
  }
}
