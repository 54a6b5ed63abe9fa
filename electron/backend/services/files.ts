/**
 * The container filesystem through the archive API (works for stopped
 * containers too, and on any engine): a folder is listed by reading the tar
 * the engine sends for it and keeping its direct children; downloads stream
 * that tar to the client. Volumes are browsed through a helper container that
 * mounts them and is never started.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type Docker from 'dockerode';
import type { FileEntry } from '../../contract/models.js';
import type { StreamParamsOf } from '../../contract/api.js';
import type { StreamSink } from '../rpc/session.js';

/** Listing stops (and says so) past this many bytes of archive or entries. */
const MAX_LIST_BYTES = 256 * 1024 * 1024;
const MAX_ENTRIES = 5000;
const CHUNK = 256 * 1024;

export interface Listing {
  path: string;
  entries: FileEntry[];
  truncated: boolean;
}

function typeOf(t: string | null | undefined): FileEntry['type'] {
  switch (t) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'dir';
    case 'symlink':
    case 'link':
      return 'symlink';
    default:
      return 'other';
  }
}

/** Reads the direct children of the archived folder from a tar stream. */
export function listTar(stream: Readable, signal?: AbortSignal): Promise<{ entries: FileEntry[]; truncated: boolean; rootIsDir: boolean }> {
  return new Promise((resolve, reject) => {
    const extract = tar.extract();
    const entries: FileEntry[] = [];
    let bytes = 0;
    let truncated = false;
    let rootIsDir = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      stream.unpipe(extract);
      stream.destroy();
      entries.sort((a, b) => (a.type === 'dir') === (b.type === 'dir') ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1);
      resolve({ entries, truncated, rootIsDir });
    };
    stream.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > MAX_LIST_BYTES && !finished) {
        truncated = true;
        finish();
      }
    });
    // The first entry is the archived item itself ("etc/", or "./" for the root); its children are one level below.
    let rootDepth: number | undefined;
    extract.on('entry', (header, body, next) => {
      const parts = header.name.replace(/\/+$/, '').split('/').filter((p) => p && p !== '.');
      if (rootDepth === undefined) {
        rootDepth = parts.length;
        rootIsDir = header.type === 'directory';
      } else if (parts.length === rootDepth + 1) {
        const e: FileEntry = { name: parts[rootDepth]!, type: typeOf(header.type), size: header.size ?? 0, mode: header.mode ?? 0, mtime: header.mtime ? header.mtime.getTime() : 0 };
        if (header.linkname) e.linkTarget = header.linkname;
        entries.push(e);
        if (entries.length >= MAX_ENTRIES) {
          truncated = true;
          body.resume();
          finish();
          return;
        }
      }
      body.on('end', next);
      body.resume();
    });
    extract.on('finish', finish);
    extract.on('error', (e) => (finished ? undefined : reject(e)));
    stream.on('error', (e) => (finished || signal?.aborted ? undefined : reject(e)));
    stream.pipe(extract);
  });
}

export async function listContainerFiles(docker: Docker, id: string, dir: string, signal?: AbortSignal): Promise<Listing> {
  const clean = path.posix.normalize(dir);
  const stream = (await docker.getContainer(id).getArchive({ path: clean, ...(signal ? { abortSignal: signal } : {}) })) as unknown as Readable;
  const { entries, truncated, rootIsDir } = await listTar(stream, signal);
  if (!rootIsDir && entries.length === 0 && clean !== '/') {
    throw Object.assign(new Error(`${clean} is not a folder`), { statusCode: 400 });
  }
  return { path: clean, entries, truncated };
}

/** The stat the engine sends with an archive (X-Docker-Container-Path-Stat: base64 JSON). */
export function pathStatFromHeaders(headers: Record<string, string | string[] | undefined> | undefined): { name: string; size: number; mode: number } | undefined {
  const raw = headers?.['x-docker-container-path-stat'];
  if (typeof raw !== 'string') return undefined;
  try {
    const s = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as { name?: string; size?: number; mode?: number };
    return { name: s.name ?? '', size: s.size ?? 0, mode: s.mode ?? 0 };
  } catch {
    return undefined;
  }
}

export async function streamArchive(docker: Docker, p: StreamParamsOf<'containers.archive'>, sink: StreamSink<'containers.archive'>): Promise<void> {
  const stream = (await docker.getContainer(p.id).getArchive({ path: p.path, abortSignal: sink.signal })) as unknown as Readable & { headers?: Record<string, string> };
  const stat = pathStatFromHeaders(stream.headers);
  sink.emit({ type: 'stat', name: stat?.name || path.posix.basename(p.path) || 'root', size: stat?.size ?? 0, mode: stat?.mode ?? 0 });
  let pending: Buffer[] = [];
  let size = 0;
  const flush = () => {
    if (size === 0) return;
    sink.emit({ type: 'chunk', data: Buffer.concat(pending).toString('base64') });
    pending = [];
    size = 0;
  };
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => {
      pending.push(c);
      size += c.length;
      if (size >= CHUNK) flush();
    });
    stream.once('end', resolve);
    stream.once('error', (e) => (sink.signal.aborted ? resolve() : reject(e)));
  });
  flush();
}

const HELPER_LABEL = 'com.berth.helper';

/** Lists a volume's folder through a created-but-never-started container that mounts it read-only. */
export async function listVolumeFiles(docker: Docker, volume: string, dir: string): Promise<Listing> {
  const images = await docker.listImages();
  const image = images.find((i) => (i.RepoTags ?? []).some((t) => t !== '<none>:<none>'));
  if (!image) throw Object.assign(new Error('browsing a volume needs an image on this engine to create a helper container from (it is never started)'), { statusCode: 409 });
  const mountPoint = '/berth-volume';
  const helper = await docker.createContainer({
    Image: image.Id,
    Cmd: ['true'],
    Labels: { [HELPER_LABEL]: 'volume-browser' },
    HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: mountPoint, ReadOnly: true }] },
  });
  try {
    const listing = await listContainerFiles(docker, helper.id, path.posix.join(mountPoint, dir));
    return { ...listing, path: path.posix.normalize(dir) };
  } finally {
    await helper.remove({ force: true }).catch(() => undefined);
  }
}
