/**
 * Container and volume files through the archive API (works for stopped
 * containers too, and on any engine): a folder is listed by reading the tar
 * the engine sends for it and keeping its direct children; downloads stream
 * that tar to the client; uploads, new folders and edited files are tars the
 * engine unpacks. Volumes are reached through a helper container that mounts
 * them and is never started. Renaming and deleting have no archive call, so
 * they run `mv`/`rm` in the (running) container.
 */
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import type Docker from 'dockerode';
import type { FileEntry } from '../../contract/models.js';
import { MAX_EDIT_BYTES, type FileTarget, type StreamParamsOf } from '../../contract/api.js';
import type { StreamSink } from '../rpc/session.js';
import { BackendError } from '../errors.js';
import { execCapture } from './exec-capture.js';

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

/**
 * The tar of a whole volume as `docker cp vol-container:/mnt/. -` would give it: its content at the
 * top of the archive, not under the helper's mount folder (so Import takes back what Export gave).
 */
export function withoutTopFolder(source: Readable, top: string): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  const prefix = `${top.replace(/^\/+|\/+$/g, '')}/`;
  extract.on('entry', (header, body, next) => {
    const name = header.name.replace(/^\.\//, '');
    const rel = name === prefix || `${name}/` === prefix ? '' : name.startsWith(prefix) ? name.slice(prefix.length) : name;
    if (!rel) {
      body.on('end', next);
      body.resume();
      return;
    }
    const out = pack.entry({ ...header, name: rel }, (err) => (err ? extract.destroy(err) : next()));
    body.pipe(out as unknown as NodeJS.WritableStream);
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (e) => pack.destroy(e));
  source.on('error', (e) => extract.destroy(e));
  source.pipe(extract);
  return pack as unknown as Readable;
}

/** Streams the tar the engine sends for a path as base64 chunks, after its stat. */
async function sendArchive(docker: Docker, containerId: string, archivePath: string, displayName: string, sink: StreamSink<'files.archive'>, stripTop = false): Promise<void> {
  const raw = (await docker.getContainer(containerId).getArchive({ path: archivePath, abortSignal: sink.signal })) as unknown as Readable & { headers?: Record<string, string> };
  const stat = pathStatFromHeaders(raw.headers);
  const stream = stripTop ? withoutTopFolder(raw, path.posix.basename(archivePath)) : raw;
  sink.emit({ type: 'stat', name: displayName || stat?.name || 'root', size: stat?.size ?? 0, mode: stat?.mode ?? 0 });
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

export const HELPER_LABEL = 'com.berth.helper';
export const VOLUME_MOUNT = '/berth-volume';

/** A created-but-never-started container that mounts the volume, for the archive API; removed after fn. */
export async function withVolumeHelper<T>(docker: Docker, volume: string, readOnly: boolean, fn: (helperId: string) => Promise<T>, mountPoint = VOLUME_MOUNT): Promise<T> {
  const images = await docker.listImages();
  const image = images.find((i) => (i.RepoTags ?? []).some((t) => t !== '<none>:<none>')) ?? images[0];
  if (!image) throw new BackendError('working with a volume\'s files needs an image on this engine to create a helper container from (it is never started)', 409);
  await docker.getVolume(volume).inspect();
  const helper = await docker.createContainer({
    Image: image.Id,
    Cmd: ['true'],
    Labels: { [HELPER_LABEL]: 'volume-files' },
    HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: mountPoint, ReadOnly: readOnly }] },
  });
  try {
    return await fn(helper.id);
  } finally {
    await helper.remove({ force: true }).catch(() => undefined);
  }
}

/** Runs fn against the container that holds the target's files, with the target path mapped into it. */
async function onTarget<T>(docker: Docker, target: FileTarget, readOnly: boolean, fn: (containerId: string, map: (p: string) => string) => Promise<T>): Promise<T> {
  if (target.kind === 'container') return fn(target.id, (p) => path.posix.normalize(p));
  return withVolumeHelper(docker, target.name, readOnly, (id) => fn(id, (p) => path.posix.join(VOLUME_MOUNT, path.posix.normalize(p))));
}

export async function streamFilesArchive(docker: Docker, p: StreamParamsOf<'files.archive'>, sink: StreamSink<'files.archive'>): Promise<void> {
  const clean = path.posix.normalize(p.path);
  const base = path.posix.basename(clean);
  const wholeVolume = p.target.kind === 'volume' && clean === '/';
  await onTarget(docker, p.target, true, (id, map) => sendArchive(docker, id, map(clean), base || (p.target.kind === 'volume' ? p.target.name : 'root'), sink, wholeVolume));
}

/** Lists a volume's folder through the helper container (read-only). */
export async function listVolumeFiles(docker: Docker, volume: string, dir: string): Promise<Listing> {
  return withVolumeHelper(docker, volume, true, async (id) => {
    const listing = await listContainerFiles(docker, id, path.posix.join(VOLUME_MOUNT, dir));
    return { ...listing, path: path.posix.normalize(dir) };
  });
}

function tarOf(entry: Partial<tar.Header> & { name: string }, body?: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry(entry, body ?? Buffer.alloc(0));
  pack.finalize();
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    pack.on('data', (c: unknown) => parts.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(parts)));
    pack.on('error', reject);
  });
}

/** The content of a small file (for the editor). */
export async function readFile(docker: Docker, target: FileTarget, file: string): Promise<{ content: string; size: number; mode: number }> {
  return onTarget(docker, target, true, async (id, map) => {
    const stream = (await docker.getContainer(id).getArchive({ path: map(file) })) as unknown as Readable & { headers?: Record<string, string> };
    const stat = pathStatFromHeaders(stream.headers);
    if (stat && (stat.mode & 0x80000000) !== 0) {
      stream.destroy();
      throw new BackendError(`${file} is a folder`, 400);
    }
    if (stat && stat.size > MAX_EDIT_BYTES) {
      stream.destroy();
      throw new BackendError(`${file} is ${stat.size} bytes, larger than the editor opens (1 MB): download it instead`, 413);
    }
    return new Promise((resolve, reject) => {
      const extract = tar.extract();
      let found: { content: string; size: number; mode: number } | undefined;
      extract.on('entry', (header, body, next) => {
        if (found || (header.type !== 'file' && header.type !== 'contiguous-file')) {
          body.on('end', next);
          body.resume();
          return;
        }
        if ((header.size ?? 0) > MAX_EDIT_BYTES) {
          reject(new BackendError(`${file} is larger than the editor opens (1 MB): download it instead`, 413));
          stream.destroy();
          return;
        }
        const parts: Buffer[] = [];
        body.on('data', (c: unknown) => parts.push(c as Buffer));
        body.on('end', () => {
          const data = Buffer.concat(parts);
          found = { content: data.toString('base64'), size: data.length, mode: header.mode ?? 0o644 };
          next();
        });
      });
      extract.on('finish', () => (found ? resolve(found) : reject(new BackendError(`${file} is not a regular file`, 400))));
      extract.on('error', reject);
      stream.on('error', reject);
      stream.pipe(extract);
    });
  });
}

/** The tar header of a path (mode, owner) without reading its content; undefined when it does not exist. */
async function headerOf(docker: Docker, containerId: string, p: string): Promise<tar.Header | undefined> {
  let stream: Readable;
  try {
    stream = (await docker.getContainer(containerId).getArchive({ path: p })) as unknown as Readable;
  } catch {
    return undefined;
  }
  return new Promise((resolve) => {
    const extract = tar.extract();
    let done = false;
    const finish = (h: tar.Header | undefined) => {
      if (done) return;
      done = true;
      stream.unpipe(extract);
      stream.destroy();
      resolve(h);
    };
    extract.on('entry', (header) => finish(header));
    extract.on('finish', () => finish(undefined));
    extract.on('error', () => finish(undefined));
    stream.on('error', () => finish(undefined));
    stream.pipe(extract);
  });
}

/** Creates or replaces one file; a replaced file keeps its mode and owner unless a mode is given. */
export async function writeFile(docker: Docker, target: FileTarget, file: string, content: Buffer, mode?: number): Promise<void> {
  const clean = path.posix.normalize(file);
  if (clean === '/' || clean.endsWith('/')) throw new BackendError('give a file path, not a folder', 400);
  await onTarget(docker, target, false, async (id, map) => {
    const old = await headerOf(docker, id, map(clean));
    if (old && old.type === 'directory') throw new BackendError(`${clean} is a folder`, 400);
    const body = await tarOf(
      { name: path.posix.basename(clean), type: 'file', size: content.length, mode: (mode ?? old?.mode ?? 0o644) & 0o7777, uid: old?.uid ?? 0, gid: old?.gid ?? 0, mtime: new Date() },
      content,
    );
    await docker.getContainer(id).putArchive(body, { path: map(path.posix.dirname(clean)) });
  });
}

export async function makeFolder(docker: Docker, target: FileTarget, dir: string, name: string): Promise<void> {
  const body = await tarOf({ name: `${name}/`, type: 'directory', mode: 0o755, mtime: new Date() });
  await onTarget(docker, target, false, async (id, map) => {
    const where = map(dir);
    // The archive API would silently merge into an existing folder; say so instead.
    const exists = await docker
      .getContainer(id)
      .infoArchive({ path: path.posix.join(where, name) })
      .then(
        () => true,
        () => false,
      );
    if (exists) throw new BackendError(`${path.posix.join(dir, name)} already exists`, 409);
    await docker.getContainer(id).putArchive(body, { path: where });
  });
}

async function requireRunning(docker: Docker, target: FileTarget, what: string): Promise<string> {
  if (target.kind === 'volume') throw new BackendError(`${what} in a volume needs a running container that mounts it: open the file from that container`, 409);
  const info = await docker.getContainer(target.id).inspect();
  if (!info.State?.Running || info.State.Paused) throw new BackendError(`${what} needs the container to be running (the engine's archive API can only add files): start it first`, 409);
  return target.id;
}

export async function renameFile(docker: Docker, target: FileTarget, from: string, name: string): Promise<void> {
  const src = path.posix.normalize(from);
  if (src === '/') throw new BackendError('the root folder cannot be renamed', 400);
  const id = await requireRunning(docker, target, 'Renaming');
  const dst = path.posix.join(path.posix.dirname(src), name);
  const exists = await docker
    .getContainer(id)
    .infoArchive({ path: dst })
    .then(
      () => true,
      () => false,
    );
  if (exists) throw new BackendError(`${dst} already exists`, 409);
  const r = await execCapture(docker, id, ['mv', '--', src, dst]);
  if (r.code !== 0) throw new BackendError(`could not rename ${src}: ${r.stderr.trim() || `mv exited with ${r.code}`}`, 409);
}

export async function deleteFiles(docker: Docker, target: FileTarget, paths: string[]): Promise<void> {
  const clean = paths.map((p) => path.posix.normalize(p));
  if (clean.some((p) => p === '/')) throw new BackendError('refusing to delete the root folder', 400);
  const id = await requireRunning(docker, target, 'Deleting');
  const r = await execCapture(docker, id, ['rm', '-rf', '--', ...clean]);
  if (r.code !== 0) throw new BackendError(`could not delete: ${r.stderr.trim() || `rm exited with ${r.code}`}`, 409);
}

/**
 * An upload: chunks from the client become the body of a PUT archive request,
 * either a tar to unpack or one file wrapped in a tar on the way.
 */
export async function streamUpload(docker: Docker, p: StreamParamsOf<'files.upload'>, sink: StreamSink<'files.upload'>): Promise<void> {
  type Input = Parameters<Parameters<StreamSink<'files.upload'>['onInput']>[0]>[0];
  // Chunks can arrive while the target is still being prepared (a volume's helper container): keep them.
  const early: Input[] = [];
  let handle: ((input: Input) => void) | undefined;
  sink.onInput((input) => (handle ? handle(input) : early.push(input)));
  await onTarget(docker, p.target, false, async (id, map) => {
    const body = new PassThrough();
    let received = 0;
    let fileEntry: ReturnType<tar.Pack['entry']> | undefined;
    let pack: tar.Pack | undefined;
    if (p.upload.kind === 'file') {
      pack = tar.pack();
      fileEntry = pack.entry({ name: p.upload.name, type: 'file', size: p.upload.size, mode: 0o644, mtime: new Date() });
      pack.pipe(body);
    }
    const expected = p.upload.kind === 'file' ? p.upload.size : undefined;
    let settled = false;
    const finished = new Promise<void>((resolve, reject) => {
      handle = (input) => {
        if (settled) return;
        if (input.type === 'chunk') {
          const data = Buffer.from(input.data, 'base64');
          received += data.length;
          if (expected !== undefined && received > expected) {
            settled = true;
            reject(new BackendError(`the upload is larger than the ${expected} bytes announced`, 400));
            return;
          }
          const w = fileEntry ?? body;
          const bytes = received;
          // Acknowledged once the engine has taken it (the client keeps a bounded window in flight).
          if (w.write(data)) sink.emit({ type: 'ack', bytes });
          else w.once('drain', () => sink.emit({ type: 'ack', bytes }));
        } else {
          settled = true;
          if (expected !== undefined && received !== expected) {
            reject(new BackendError(`the upload ended after ${received} of ${expected} bytes`, 400));
            return;
          }
          if (fileEntry) {
            (fileEntry as unknown as { end(): void }).end();
            pack!.finalize();
          } else body.end();
          resolve();
        }
      };
      sink.signal.addEventListener(
        'abort',
        () => {
          if (!settled) reject(new BackendError('the upload was cancelled', 499));
        },
        { once: true },
      );
      for (const input of early.splice(0)) handle(input);
    });
    const put = docker.getContainer(id).putArchive(body, { path: map(p.dir), abortSignal: sink.signal } as unknown as { path: string });
    // Whichever fails first ends the stream with its error (a bad tar is refused by the engine mid-upload).
    put.catch(() => undefined);
    finished.catch(() => body.destroy());
    await Promise.race([finished.then(() => put), put.then(() => finished)]);
    await put;
    sink.emit({ type: 'done' });
  });
}

/** A new volume with the content of another: the source tar is unpacked into the new one, no container runs. */
export async function cloneVolume(docker: Docker, source: string, targetName: string): Promise<string> {
  const exists = await docker
    .getVolume(targetName)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (exists) throw new BackendError(`a volume named ${targetName} already exists`, 409);
  const src = await docker.getVolume(source).inspect();
  await docker.createVolume({ Name: targetName, Driver: src.Driver, Labels: { ...(src.Labels ?? {}), 'com.berth.cloned-from': source } });
  try {
    await withVolumeHelper(docker, source, true, async (srcId) => {
      const archive = (await docker.getContainer(srcId).getArchive({ path: VOLUME_MOUNT })) as unknown as Readable;
      await withVolumeHelper(docker, targetName, false, (dstId) => docker.getContainer(dstId).putArchive(archive, { path: '/' }));
    });
  } catch (err) {
    await docker.getVolume(targetName).remove().catch(() => undefined);
    throw err;
  }
  return targetName;
}
