/**
 * One log view for a whole compose project, like `docker compose logs -f`:
 * every container's tail merged by time, then their new lines as they come,
 * each line behind a service column ("web-1  | ..."), colored per service.
 * The same batching and acknowledgement window as a single container's logs
 * keep a chatty project from flooding the view.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { StreamParamsOf } from '../../contract/api.js';
import type { StreamSink } from '../rpc/session.js';
import { LOG_WINDOW_HIGH, LOG_WINDOW_LOW, compareLogTime, followLines, formatLogTime, plusOneNano, splitResponse, type LogLine, type LogTime } from './logs.js';
import { NUMBER_LABEL, SERVICE_LABEL, projectContainers } from '../services/projects.js';

const BATCH_BYTES = 64 * 1024;
const FLUSH_MS = 16;
/** Compose's own palette order (cyan, yellow, green, magenta, blue, and the bright ones). */
const COLORS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

interface Source {
  id: string;
  label: string;
  color: number;
  tty: boolean;
  createdSec: number;
  lastTime?: LogTime;
}

/** "web-1" from the compose labels, else the container's name. */
export function serviceLabel(c: Pick<Docker.ContainerInfo, 'Names' | 'Labels' | 'Id'>): string {
  const service = c.Labels?.[SERVICE_LABEL];
  const n = c.Labels?.[NUMBER_LABEL];
  if (service) return n ? `${service}-${n}` : service;
  return (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');
}

export function prefixFor(label: string, width: number, color: number, colored: boolean): string {
  const col = label.padEnd(width);
  return colored ? `\x1b[${color}m${col}  |\x1b[0m ` : `${col}  | `;
}

export async function streamProjectLogs(docker: Docker, p: StreamParamsOf<'projects.logs'>, sink: StreamSink<'projects.logs'>): Promise<void> {
  const listed = await projectContainers(docker, p.project);
  if (listed.length === 0) throw Object.assign(new Error(`no containers belong to compose project "${p.project}"`), { statusCode: 404 });
  listed.sort((a, b) => serviceLabel(a).localeCompare(serviceLabel(b)));
  const sources: Source[] = [];
  for (const [i, c] of listed.entries()) {
    const info = await docker.getContainer(c.Id).inspect();
    sources.push({ id: c.Id, label: serviceLabel(c), color: COLORS[i % COLORS.length]!, tty: !!info.Config?.Tty, createdSec: Math.floor(Date.parse(info.Created) / 1000) });
  }
  const width = Math.max(...sources.map((s) => s.label.length));

  let batch: string[] = [];
  let batchBytes = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let sent = 0;
  let acked = 0;
  let paused = false;
  const live: Readable[] = [];

  const flush = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (batch.length === 0) return;
    const data = batch.join('');
    batch = [];
    sink.emit({ type: 'data', data, bytes: batchBytes });
    sent += batchBytes;
    batchBytes = 0;
    if (!paused && sent - acked > LOG_WINDOW_HIGH) {
      paused = true;
      for (const s of live) s.pause();
    }
  };
  sink.onInput(({ ack }) => {
    acked = Math.max(acked, Math.min(ack, sent));
    if (paused && sent - acked < LOG_WINDOW_LOW) {
      paused = false;
      for (const s of live) s.resume();
    }
  });

  const emit = (src: Source, l: LogLine) => {
    if (l.time && (!src.lastTime || compareLogTime(l.time, src.lastTime) > 0)) src.lastTime = l.time;
    const text = p.timestamps || !l.time ? l.raw : l.raw.slice(l.textAt);
    const line = prefixFor(src.label, width, src.color, p.color) + text;
    batch.push(line);
    batchBytes += Buffer.byteLength(line);
    if (batchBytes >= BATCH_BYTES) flush();
    else flushTimer ??= setTimeout(flush, FLUSH_MS);
  };

  try {
    // The tails, merged by time so the project's history reads in order.
    const tails = await Promise.all(
      sources.map(async (src) => {
        const data = await docker.getContainer(src.id).logs({ stdout: true, stderr: true, timestamps: true, follow: false, tail: p.tail, abortSignal: sink.signal } as unknown as Docker.ContainerLogsOptions & { follow: false });
        const lines = await splitResponse(docker, Buffer.isBuffer(data) ? data : Buffer.from(String(data)), src.tty);
        return lines.map((l) => ({ src, l }));
      }),
    );
    const merged = tails.flat().sort((a, b) => (a.l.time && b.l.time ? compareLogTime(a.l.time, b.l.time) : 0));
    for (const { src, l } of merged) emit(src, l);
    flush();
    sink.emit({ type: 'caught-up' });
    if (!p.follow || sink.signal.aborted) return;

    await Promise.all(
      sources.map(async (src) => {
        const q: Record<string, unknown> = { stdout: true, stderr: true, timestamps: true, follow: true, abortSignal: sink.signal };
        q.since = src.lastTime ? formatLogTime(plusOneNano(src.lastTime)) : String(src.createdSec);
        const stream = (await docker.getContainer(src.id).logs(q as unknown as Docker.ContainerLogsOptions & { follow: true })) as Readable;
        live.push(stream);
        if (paused) stream.pause();
        await followLines(docker, stream, src.tty, (l) => emit(src, l), sink.signal);
      }),
    );
    flush();
  } catch (err) {
    if (sink.signal.aborted) return;
    throw err;
  } finally {
    clearTimeout(flushTimer);
    for (const s of live) s.destroy();
  }
}
