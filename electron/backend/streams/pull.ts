/**
 * Pull and push with progress: the engine's JSON progress messages turned
 * into per-layer events (id, status, current/total bytes) for the progress
 * bars, with the engine's error message when it fails.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { PullProgress } from '../../contract/models.js';
import type { StreamParamsOf } from '../../contract/api.js';
import type { StreamSink } from '../rpc/session.js';
import { readJsonLines } from './json-lines.js';

interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string };
}

export class ProgressError extends Error {
  readonly statusCode = 500;
}

/** Maps one engine message to a progress event (undefined for noise). */
export function progressEvent(m: ProgressMessage): PullProgress | undefined {
  if (m.error || m.errorDetail?.message) return { type: 'error', message: m.errorDetail?.message || m.error || 'unknown error' };
  if (!m.status) return undefined;
  if (m.id && !m.status.startsWith('Pulling from')) {
    const e: PullProgress = { type: 'layer', id: m.id, status: m.status };
    if (m.progressDetail?.total) {
      e.current = m.progressDetail.current ?? 0;
      e.total = m.progressDetail.total;
    }
    return e;
  }
  return { type: 'status', status: m.id ? `${m.id}: ${m.status}` : m.status };
}

async function follow(stream: Readable, sink: StreamSink<'images.pull'> | StreamSink<'images.push'>): Promise<void> {
  let digest: string | undefined;
  let failure: string | undefined;
  await readJsonLines(stream, sink.signal, (v) => {
    const m = v as ProgressMessage;
    if (m.aux?.Digest) digest = m.aux.Digest;
    const d = /Digest: (sha256:[0-9a-f]{64})/.exec(m.status ?? '');
    if (d) digest = d[1];
    const e = progressEvent(m);
    if (!e) return;
    if (e.type === 'error') failure = e.message;
    sink.emit(e);
  });
  if (sink.signal.aborted) return;
  if (failure) throw new ProgressError(failure);
  sink.emit(digest ? { type: 'done', digest } : { type: 'done' });
}

/** The stored credentials go with the request (X-Registry-Auth), as the docker CLI sends them. */
export async function streamPull(docker: Docker, p: StreamParamsOf<'images.pull'>, sink: StreamSink<'images.pull'>, auth?: Docker.AuthConfig): Promise<void> {
  const last = p.ref.split('/').pop() ?? '';
  // Without a tag the engine would pull every tag of the repository; the CLI defaults to :latest.
  const ref = last.includes(':') || p.ref.includes('@') ? p.ref : `${p.ref}:latest`;
  const stream = (await docker.pull(ref, { abortSignal: sink.signal, ...(auth ? { authconfig: auth } : {}) })) as Readable;
  await follow(stream, sink);
}

export async function streamPush(docker: Docker, p: StreamParamsOf<'images.push'>, sink: StreamSink<'images.push'>, auth?: Docker.AuthConfig): Promise<void> {
  // X-Registry-Auth must be present; an empty config means anonymous.
  const image = docker.getImage(p.ref);
  const stream = (await image.push({ authconfig: auth ?? {}, abortSignal: sink.signal } as unknown as Docker.ImagePushOptions)) as unknown as Readable;
  await follow(stream, sink);
}
