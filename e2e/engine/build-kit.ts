/**
 * Helpers for the build specs: contexts on disk, tars made by hand (for
 * what tools refuse to write), raw /build requests and their JSON streams.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Berthd } from '../support/berthd.js';

export type ContextFile = string | Buffer | { content?: string | Buffer; mode?: number; link?: string; dir?: true };

/** A context directory with these files (removed by the returned cleanup). */
export function contextDir(files: Record<string, ContextFile>): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-ctx-'));
  for (const [name, f] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (typeof f === 'string' || Buffer.isBuffer(f)) fs.writeFileSync(p, f);
    else if (f.link !== undefined) fs.symlinkSync(f.link, p);
    else if (f.dir) fs.mkdirSync(p, { recursive: true, mode: f.mode ?? 0o755 });
    else fs.writeFileSync(p, f.content ?? '');
    if (typeof f === 'object' && !Buffer.isBuffer(f) && f.mode !== undefined) fs.chmodSync(p, f.mode);
  }
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface StreamMessage {
  stream?: string;
  status?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { code?: number; message: string };
}

export interface RawBuild {
  status: number;
  body: string;
  messages: StreamMessage[];
  /** The stream texts joined. */
  text: string;
}

/** POST /build with a tar body (or none), collecting the response. */
export function rawBuild(d: Berthd, query: string, body: Buffer | undefined, headers: Record<string, string> = {}): Promise<RawBuild> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: `/v1.51/build${query ? '?' + query : ''}`, headers: { 'Content-Type': 'application/x-tar', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const messages = res.statusCode === 200 ? text.split('\r\n').filter(Boolean).map((l) => JSON.parse(l) as StreamMessage) : [];
        resolve({ status: res.statusCode ?? 0, body: text, messages, text: messages.map((m) => m.stream ?? '').join('') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** Which steps of a `docker build` output were cache hits. */
export function cacheHits(output: string): boolean[] {
  return output
    .split(/^Step \d+\/\d+ : /m)
    .slice(1)
    .map((s) => s.includes(' ---> Using cache'));
}
