import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../images/blobs.js';
import { Logger } from '../daemon/log.js';
import { DownloadManager, type BlobSource } from './download.js';

const quiet = new Logger('error', {}, () => undefined);

/** A registry stand-in that serves `data` (optionally with one byte flipped) in 64 KiB chunks. */
function source(data: Buffer, flipAt?: number): BlobSource {
  return {
    open: async (_digest, offset) => {
      const body = Buffer.from(data.subarray(offset));
      if (flipAt !== undefined) body[flipAt - offset] = body[flipAt - offset]! ^ 0xff;
      const chunks: Buffer[] = [];
      for (let i = 0; i < body.length; i += 64 * 1024) chunks.push(body.subarray(i, i + 64 * 1024));
      return { body: Readable.from(chunks), partial: offset > 0 };
    },
  };
}

describe('blob downloads and their followers', () => {
  let root: string;
  let blobs: BlobStore;
  let manager: DownloadManager;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-dl-'));
    blobs = new BlobStore(root);
    await blobs.init();
    manager = new DownloadManager(blobs, { maxAttempts: () => 1, retryDelay: () => 0, maxConcurrent: () => 3 }, quiet);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const blob = randomBytes(8 * 1024 * 1024);
  const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:' + createHash('sha256').update(blob).digest('hex'), size: blob.length };

  it('a follower reads the verified bytes and ends', async () => {
    const { download } = manager.get(desc, source(blob));
    const release = download.attach();
    const chunks: Buffer[] = [];
    for await (const c of download.reader()) chunks.push(c as Buffer);
    await download.done;
    release();
    expect(Buffer.concat(chunks).equals(blob)).toBe(true);
    expect(blobs.has(desc.digest)).toBe(true);
  });

  it('a corrupted blob fails a follower that stopped reading (backpressure), without leaving a file', async () => {
    const { download } = manager.get(desc, source(blob, 5 * 1024 * 1024));
    const release = download.attach();
    const reader = download.reader();
    // Read one chunk, then stop consuming: the reader fills its buffer and is never asked for more.
    await new Promise<void>((resolve) => reader.once('readable', () => resolve()));
    reader.read();
    const failed = new Promise<Error>((resolve) => reader.once('error', resolve));
    await expect(download.done).rejects.toThrow(/verification failed/);
    const err = await Promise.race([failed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]);
    release();
    expect(err?.message).toMatch(/filesystem layer verification failed/);
    expect(reader.destroyed).toBe(true);
    expect(blobs.has(desc.digest)).toBe(false);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });
});
