/**
 * Layer archives arrive as plain tar, gzip or zstd. Sniff the magic bytes and
 * return a stream of the uncompressed tar.
 */
import { spawn } from 'node:child_process';
import zlib from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';
import { InvalidParameterError } from '../errdefs.js';

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head[0] === 0xfd && head.toString('latin1', 1, 6) === '7zXZ\0') return 'xz';
  return 'none';
}

/** Reads the first bytes of a stream without consuming them. */
export async function peek(input: Readable, n = 6): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  for (;;) {
    const chunk = input.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      len += chunk.length;
      if (len >= n) break;
      continue;
    }
    if (input.readableEnded || input.destroyed) break;
    const ended = await new Promise<boolean>((resolve, reject) => {
      const onReadable = () => {
        cleanup();
        resolve(false);
      };
      const onEnd = () => {
        cleanup();
        resolve(true);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        input.off('readable', onReadable);
        input.off('end', onEnd);
        input.off('error', onError);
      };
      input.on('readable', onReadable);
      input.on('end', onEnd);
      input.on('error', onError);
    });
    if (ended) break;
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) input.unshift(head);
  return head.subarray(0, n);
}

function spawnFilter(cmd: string, args: string[], input: Readable): Readable {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('error', (err) => out.destroy(new InvalidParameterError(`${cmd}: ${err.message}`)));
  input.on('error', (err) => {
    child.kill();
    out.destroy(err);
  });
  input.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new InvalidParameterError(`decompressing layer with ${cmd}: ${stderr.trim() || `exit status ${code}`}`));
  });
  return out;
}

/** Returns the uncompressed tar stream for input (which may be compressed). */
export async function decompress(input: Readable): Promise<{ stream: Readable; compression: Compression }> {
  const compression = detectCompression(await peek(input));
  switch (compression) {
    case 'none':
      return { stream: input, compression };
    case 'gzip': {
      const gunzip = zlib.createGunzip({ chunkSize: 256 * 1024 });
      input.on('error', (err) => gunzip.destroy(err));
      return { stream: input.pipe(gunzip), compression };
    }
    case 'zstd':
      return { stream: spawnFilter('zstd', ['-d', '-c', '-q'], input), compression };
    case 'bzip2':
      return { stream: spawnFilter('bzip2', ['-d', '-c'], input), compression };
    case 'xz':
      return { stream: spawnFilter('xz', ['-d', '-c'], input), compression };
  }
}
