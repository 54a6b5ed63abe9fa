/**
 * COPY and ADD as dockerd's classic builder performs them
 * (builder/dockerfile/copy.go), planned as a layer instead of written into a
 * container:
 *
 * - sources: paths in the context (or, with --from, in an image), wildcards
 *   matched with Go's filepath.Match over a lexical walk, URLs for ADD,
 *   heredocs; a source that is a link is followed (inside its source only);
 * - the cache key: `file:<hash>` for one file, `dir:<hash of the sorted
 *   hashes>` for a directory, `multi:<hash>` for several sources;
 * - the copy: a directory's content goes into the destination (created
 *   0755 root), a file goes to the destination or into it when it ends in `/`
 *   or is a directory; new files belong to root, or to --chown, or keep their
 *   owners with --from; ADD unpacks local archives (owners as archived).
 */
import fsp from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { globToRegExp } from '../images/glob.js';
import { BuildContext, BuildContextError } from './context/build-context.js';
import { PatternMatcher } from './dockerignore.js';
import type { FileStat, LayerEntry } from './backend.js';
import { ContextSource, walkSource, type CopySource } from './sources.js';
import { dirEntry, LayerPlanError, type PendingLayer } from './layer-plan.js';

export class CopyError extends Error {}

export interface CopyInfo {
  source: CopySource;
  /** The source path as written (leading "/" and "./" trimmed), or a file name for downloads and heredocs. */
  path: string;
  hash: string;
  /** Downloads are never unpacked, even by ADD. */
  noDecompress: boolean;
  /** --parents: where below the destination this source goes. */
  parentsPath?: string;
}

export interface Identity {
  uid: number;
  gid: number;
}

/** Go's containsWildcards (a backslash escapes the next character). */
export function hasWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** `dir:`/`multi:` hashes: sha256 of the joined hashes. */
export function hashStrings(prefix: string, list: readonly string[]): string {
  return `${prefix}:${sha256(list.join(','))}`;
}

/** The cache-key part of one or several sources. */
export function sourceHash(infos: readonly CopyInfo[]): string {
  if (infos.length === 1) return infos[0]!.hash;
  return hashStrings('multi', infos.map((i) => i.hash));
}

function trimSourcePath(p: string): string {
  let out = p;
  if (out.startsWith('/')) out = out.slice(1);
  if (out.startsWith('./')) out = out.slice(2);
  return out === '' ? '.' : out;
}

/** --parents: the part of a source path kept below the destination (after a "/./" pivot if any). */
function parentsRel(p: string): string {
  const pivot = p.indexOf('/./');
  const kept = pivot >= 0 ? p.slice(pivot + 3) : p;
  return posix.normalize('/' + kept).slice(1);
}

export interface InfoOptions {
  /** Patterns of --exclude, relative to the source. */
  exclude?: PatternMatcher;
  parents?: boolean;
}

/** calcCopyInfo: the infos (and their hashes) of one source path. */
export async function copyInfosFor(src: CopySource, orig: string, opts: InfoOptions = {}): Promise<CopyInfo[]> {
  const path = trimSourcePath(orig);
  if (hasWildcards(path)) {
    let re: RegExp | undefined;
    try {
      re = globToRegExp(path);
    } catch {
      re = undefined;
    }
    const out: CopyInfo[] = [];
    if (!re) return out;
    for (const rel of walkSource(src, '.')) {
      if (rel === '.' || !re.test(rel)) continue;
      if (opts.exclude?.matches(rel)) continue;
      out.push(...(await single(src, rel, opts)));
    }
    return out;
  }
  return single(src, path, opts);
}

async function single(src: CopySource, path: string, opts: InfoOptions): Promise<CopyInfo[]> {
  const resolved = src.resolve(path, true);
  const st = src.lstat(resolved);
  const withParents = (info: CopyInfo): CopyInfo => (opts.parents ? { ...info, parentsPath: parentsRel(path) } : info);
  if (!st) {
    const shown = posix.normalize(path);
    if (src.kind === 'context') throw new CopyError(`file not found in build context or excluded by .dockerignore: stat ${shown}: file does not exist`);
    throw new CopyError(`stat ${shown}: file does not exist`);
  }
  if (st.type !== 'dir') return [withParents({ source: src, path, hash: 'file:' + (await src.hash(path)), noDecompress: false })];
  const hashes: string[] = [];
  for (const rel of walkSource(src, resolved)) {
    if (rel === '.') continue;
    if (opts.exclude && rel !== resolved && opts.exclude.matches(relativeTo(resolved, rel))) continue;
    hashes.push(await src.hash(rel));
  }
  hashes.sort();
  return [withParents({ source: src, path, hash: hashStrings('dir', hashes), noDecompress: false })];
}

function relativeTo(base: string, p: string): string {
  return base === '.' ? p : p.slice(base.length + 1);
}

// ---- the copy ---------------------------------------------------------------

export interface CopyOptions {
  /** New files' owner; undefined keeps the source's (COPY --from without --chown). */
  identity: Identity | undefined;
  /** ADD: unpack local archives. */
  decompress: boolean;
  exclude?: PatternMatcher;
  /** Where archives are spooled while ADD unpacks them. */
  tmpDir: string;
}

/** Archives opened while copying; closed once the layer has been written. */
export type Cleanup = () => Promise<void>;

const ROOT: Identity = { uid: 0, gid: 0 };

/** dockerd's normalizeDest: relative destinations are under WORKDIR; a trailing slash stays. */
export function normalizeDest(workingDir: string, dest: string): string {
  if (dest.startsWith('/')) return dest;
  const joined = posix.join('/', workingDir || '/', dest);
  return dest.endsWith('/') && !joined.endsWith('/') ? joined + '/' : joined;
}

function wrap(err: unknown): never {
  if (err instanceof LayerPlanError) throw new CopyError(err.message);
  throw err;
}

/** Copies every info into the planned layer at dest (already normalized). */
export async function performCopy(layer: PendingLayer, dest: string, infos: readonly CopyInfo[], opts: CopyOptions): Promise<Cleanup[]> {
  const cleanups: Cleanup[] = [];
  try {
    for (const info of infos) {
      const target = info.parentsPath !== undefined ? posix.join(dest, info.parentsPath) + (dest.endsWith('/') && info.parentsPath === '' ? '/' : '') : dest;
      await copyOne(layer, target, info, opts, cleanups);
    }
  } catch (err) {
    for (const c of cleanups) await c().catch(() => undefined);
    wrap(err);
  }
  return cleanups;
}

async function copyOne(layer: PendingLayer, dest: string, info: CopyInfo, opts: CopyOptions, cleanups: Cleanup[]): Promise<void> {
  const src = info.source;
  const srcRel = src.resolve(info.path, true);
  const st = src.lstat(srcRel);
  if (!st) throw new CopyError(`source path not found: stat ${info.path}: file does not exist`);
  const destParts = layer.resolve(dest, true);
  if (st.type === 'dir') {
    copyDirectory(layer, src, srcRel, destParts, opts.identity, opts.exclude);
    return;
  }
  if (opts.decompress && !info.noDecompress && st.type === 'file') {
    const archive = await openArchive(src, srcRel, opts.tmpDir);
    if (archive) {
      cleanups.push(() => archive.close());
      untarInto(layer, archive, destParts);
      return;
    }
  }
  let target = destParts;
  // dest.path keeps its trailing slash (the resolved path does not).
  if (dest.endsWith('/') || layer.isDir(destParts)) target = [...destParts, posix.basename(info.path)];
  copyFile(layer, src, srcRel, st, target, opts.identity);
}

function entryFrom(path: string, src: CopySource, rel: string, st: FileStat, owner: Identity | undefined): LayerEntry {
  return {
    path,
    type: st.type,
    mode: st.mode,
    uid: owner ? owner.uid : st.uid,
    gid: owner ? owner.gid : st.gid,
    mtime: st.mtime,
    size: st.type === 'file' ? st.size : 0,
    linkname: st.type === 'symlink' ? st.linkname : '',
    devmajor: st.devmajor,
    devminor: st.devminor,
    xattrs: st.xattrs,
    ...(st.type === 'file' ? { content: () => src.open(rel) } : {}),
  };
}

/** copyFile: parents made 0755 (owned by the new owner), then the file replaces what was there. */
function copyFile(layer: PendingLayer, src: CopySource, srcRel: string, st: FileStat, target: string[], identity: Identity | undefined): void {
  if (target.length === 0) throw new CopyError('cannot copy a file to the root directory');
  const parent = target.slice(0, -1);
  const owner = identity ?? ROOT;
  layer.mkdirAll(parent, 0o755, owner.uid, owner.gid);
  // A single file loses its xattrs on the way, as dockerd's CopyFileWithTar does.
  const e = entryFrom(target.join('/'), src, srcRel, { ...st, xattrs: {} }, identity);
  if (layer.lstat(target)?.type === 'dir') throw new CopyError(`cannot overwrite directory "/${target.join('/')}" with non-directory`);
  layer.put(e);
}

/** copyDirectory: the destination made 0755 root; the tree's content merged in; owners fixed up. */
function copyDirectory(layer: PendingLayer, src: CopySource, srcRel: string, destParts: string[], identity: Identity | undefined, exclude: PatternMatcher | undefined): void {
  const destExisted = layer.isDir(destParts);
  layer.mkdirAll(destParts, 0o755, 0, 0);
  const destKey = destParts.join('/');
  // The destination itself is chowned only when this copy made it.
  if (identity && !destExisted && destKey !== '') layer.chown(destKey, identity.uid, identity.gid);
  const links = new Map<string, string>();
  for (const rel of walkSource(src, srcRel)) {
    if (rel === srcRel) continue;
    const sub = relativeTo(srcRel, rel);
    if (exclude?.matches(sub)) continue;
    const st = src.lstat(rel)!;
    const path = destKey === '' ? sub : `${destKey}/${sub}`;
    if (st.type === 'file') {
      const first = links.get(st.inode);
      if (first !== undefined) {
        layer.put({ path, type: 'link', mode: st.mode, uid: identity ? identity.uid : st.uid, gid: identity ? identity.gid : st.gid, mtime: st.mtime, size: 0, linkname: first, devmajor: 0, devminor: 0, xattrs: {} });
        continue;
      }
      links.set(st.inode, path);
    }
    if (st.type === 'dir' && layer.lstat(path.split('/'))?.type === 'dir') {
      // Onto an existing directory: its metadata is replaced, its content kept.
      layer.put({ ...dirEntry(path, st.mode, identity ? identity.uid : st.uid, identity ? identity.gid : st.gid, st.mtime), xattrs: st.xattrs });
      continue;
    }
    layer.put(entryFrom(path, src, rel, st, identity));
  }
}

// ---- ADD of a local archive -----------------------------------------------------

interface OpenedArchive {
  ctx: BuildContext;
  close(): Promise<void>;
}

/** The source as an archive (plain, gzip, bzip2, xz tar), or undefined when it is none. */
async function openArchive(src: CopySource, rel: string, tmpDir: string): Promise<OpenedArchive | undefined> {
  try {
    const ctx = await BuildContext.read(src.open(rel), tmpDir);
    if (ctx.entryCount === 0) {
      await ctx.close();
      return undefined;
    }
    return { ctx, close: () => ctx.close() };
  } catch (err) {
    // Not an archive at all: ADD copies it as a file. One that breaks half-way is an error, as in dockerd.
    if (err instanceof BuildContextError && err.entriesRead === 0) return undefined;
    throw new CopyError((err as Error).message);
  }
}

/** UntarPath: the archive's entries below dest, with the owners and modes they were archived with. */
function untarInto(layer: PendingLayer, archive: OpenedArchive, destParts: string[]): void {
  layer.mkdirAll(destParts, 0o755, 0, 0);
  const src = new ContextSource(archive.ctx);
  const destKey = destParts.join('/');
  const links = new Map<string, string>();
  for (const e of archive.ctx.walk()) {
    if (e === archive.ctx.root) continue;
    // Whiteout names would turn into deletions once this is a layer: they stay out.
    if (posix.basename(e.path).startsWith('.wh.')) continue;
    const st = src.lstat(e.path)!;
    const path = destKey === '' ? e.path : `${destKey}/${e.path}`;
    if (e.linkTarget) {
      const first = links.get(e.linkTarget) ?? (destKey === '' ? e.linkTarget : `${destKey}/${e.linkTarget}`);
      layer.put({ path, type: 'link', mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0, linkname: first, devmajor: 0, devminor: 0, xattrs: {} });
      continue;
    }
    if (st.type === 'file') links.set(e.path, path);
    layer.put(entryFrom(path, src, e.path, st, undefined));
  }
}

export async function removeQuietly(path: string): Promise<void> {
  await fsp.rm(path, { recursive: true, force: true }).catch(() => undefined);
}
