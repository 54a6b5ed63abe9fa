/**
 * Safe layer extraction for overlayfs. Each layer is unpacked into its own
 * empty directory; no entry may leave it: `..` components, absolute names,
 * writes through symbolic links and hard links to outside targets are refused
 * with a 400 naming the entry. Whiteouts become what overlayfs understands
 * (`.wh.x` → char device 0:0, `.wh..wh..opq` → trusted.overlay.opaque=y).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type tar from 'tar-stream';
import { InvalidParameterError } from '../errdefs.js';
import { extractTar, sparseInfo, writeSparse } from './tar-sparse.js';
import { mknod, mknodWhiteout, setXattr } from '../system/fsops.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export interface ExtractStats {
  /** Bytes of file content unpacked (what `docker images` reports as size). */
  size: number;
  entries: number;
}

function bad(name: string, why: string): InvalidParameterError {
  return new InvalidParameterError(`invalid tar entry ${JSON.stringify(name)}: ${why}`);
}

/** Validates a member name and returns its clean, root-relative components. */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw bad(name, 'name contains a NUL byte');
  if (name.startsWith('/')) throw bad(name, 'absolute paths are not allowed in a layer');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw bad(name, 'path escapes the layer root');
  return parts;
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Makes sure `dirParts` is a chain of real directories inside root, creating
 * missing ones, and returns its host path. A component that is a symbolic
 * link is refused: following it is how a layer writes outside itself.
 */
function ensureDir(root: string, dirParts: string[], name: string): string {
  let cur = root;
  for (let i = 0; i < dirParts.length; i++) {
    cur = path.join(cur, dirParts[i]!);
    const st = lstatOrUndefined(cur);
    if (!st) {
      fs.mkdirSync(cur, { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      throw bad(name, `parent ${JSON.stringify(dirParts.slice(0, i + 1).join('/'))} is a symbolic link`);
    } else if (!st.isDirectory()) {
      throw bad(name, `parent ${JSON.stringify(dirParts.slice(0, i + 1).join('/'))} is not a directory`);
    }
  }
  return cur;
}

/** Host path of an entry whose parents have been made safe. */
function prepareParents(root: string, parts: string[], name: string): string {
  return path.join(ensureDir(root, parts.slice(0, -1), name), parts[parts.length - 1]!);
}

/** Removes whatever is at target unless both it and the new entry are directories (tar's overwrite rule). */
function clearTarget(target: string, newIsDir: boolean): void {
  const st = lstatOrUndefined(target);
  if (!st) return;
  if (st.isDirectory() && newIsDir) return;
  fs.rmSync(target, { recursive: true, force: true });
}

function whiteoutName(base: string, name: string): string {
  const hidden = base.slice(WHITEOUT_PREFIX.length);
  if (hidden === '' || hidden === '.' || hidden === '..' || hidden.startsWith(WHITEOUT_PREFIX)) throw bad(name, 'invalid whiteout');
  return hidden;
}

type Header = tar.Header;

/** Extracts an uncompressed tar stream into dest (an empty directory). */
export async function extractLayer(input: Readable, dest: string): Promise<ExtractStats> {
  // Sparse entries (GNU tar --sparse, both formats) are restored with their holes: images/tar-sparse.ts.
  const ex = extractTar(input);
  const stats: ExtractStats = { size: 0, entries: 0 };
  const dirTimes: Array<[string, Date]> = [];

  for await (const entry of ex) {
    const header = entry.header;
    const sparse = header.type === 'file' || header.type === 'contiguous-file' ? sparseInfo(header) : undefined;
    const name = sparse?.name ?? header.name;
    stats.entries++;
    const parts = entryComponents(name);
    try {
      if (parts.length === 0) {
        // The layer root itself: keep owner and mode, like tar does.
        if (header.type === 'directory') applyMetadata(dest, header, false);
        entry.resume();
        continue;
      }
      const base = parts[parts.length - 1]!;
      if (base.startsWith(WHITEOUT_PREFIX)) {
        const parentPath = ensureDir(dest, parts.slice(0, -1), name);
        if (base === OPAQUE_MARKER) {
          // An opaque root would hide every layer below: no real layer does that.
          if (parts.length === 1) throw bad(name, 'opaque whiteout at the layer root');
          await setXattr(parentPath, 'trusted.overlay.opaque', 'y');
        } else {
          const target = path.join(parentPath, whiteoutName(base, name));
          clearTarget(target, false);
          await mknodWhiteout(target);
        }
        entry.resume();
        continue;
      }
      const target = prepareParents(dest, parts, name);
      switch (header.type) {
        case 'directory': {
          clearTarget(target, true);
          if (!lstatOrUndefined(target)) fs.mkdirSync(target, { mode: 0o755 });
          applyMetadata(target, header, false);
          if (header.mtime) dirTimes.push([target, header.mtime]);
          entry.resume();
          break;
        }
        case 'file':
        case 'contiguous-file': {
          clearTarget(target, false);
          const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
          try {
            if (sparse) stats.size += await writeSparse(fd, sparse, entry, header.size ?? 0);
            else {
              for await (const chunk of entry as AsyncIterable<Buffer>) {
                let off = 0;
                while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
                stats.size += chunk.length;
              }
            }
          } finally {
            fs.closeSync(fd);
          }
          applyMetadata(target, header, false);
          break;
        }
        case 'symlink': {
          clearTarget(target, false);
          fs.symlinkSync(header.linkname ?? '', target);
          applyMetadata(target, header, true);
          stats.size += Buffer.byteLength(header.linkname ?? '');
          entry.resume();
          break;
        }
        case 'link': {
          const linkParts = entryComponents(header.linkname ?? '');
          if (linkParts.length === 0) throw bad(name, 'hard link to the layer root');
          // Tar writers put the target first, so it must already be in this layer.
          const linkTo = prepareParents(dest, linkParts, name);
          const st = lstatOrUndefined(linkTo);
          if (!st) throw bad(name, `hard link target ${JSON.stringify(header.linkname)} is not in this layer`);
          if (st.isDirectory()) throw bad(name, 'hard link to a directory');
          if (st.isSymbolicLink()) throw bad(name, 'hard link to a symbolic link');
          clearTarget(target, false);
          fs.linkSync(linkTo, target);
          entry.resume();
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          clearTarget(target, false);
          const t = header.type === 'fifo' ? 'p' : header.type === 'character-device' ? 'c' : 'b';
          await mknod(target, t, header.devmajor ?? 0, header.devminor ?? 0, header.mode ?? 0o644);
          applyMetadata(target, header, false);
          entry.resume();
          break;
        }
        default:
          // Vendor extensions and unknown types carry nothing to unpack.
          entry.resume();
      }
      await applyXattrs(target, header);
    } catch (err) {
      entry.resume();
      if (err instanceof InvalidParameterError) throw err;
      throw new InvalidParameterError(`failed to extract ${JSON.stringify(name)}: ${(err as Error).message}`, { cause: err });
    }
  }
  // Directory times last: creating children changed them.
  for (let i = dirTimes.length - 1; i >= 0; i--) {
    const [p, t] = dirTimes[i]!;
    try {
      fs.utimesSync(p, t, t);
    } catch {
      /* best effort, as tar */
    }
  }
  return stats;
}

function applyMetadata(target: string, header: Header, isLink: boolean): void {
  fs.lchownSync(target, header.uid ?? 0, header.gid ?? 0);
  if (!isLink && header.mode !== undefined) fs.chmodSync(target, header.mode & 0o7777);
  const mtime = header.mtime ?? new Date(0);
  if (isLink) fs.lutimesSync(target, mtime, mtime);
  else if (header.type !== 'directory') fs.utimesSync(target, mtime, mtime);
}

async function applyXattrs(target: string, header: Header): Promise<void> {
  const pax = header.pax;
  if (!pax) return;
  for (const [k, v] of Object.entries(pax)) {
    if (!k.startsWith('SCHILY.xattr.')) continue;
    const name = k.slice('SCHILY.xattr.'.length);
    // A layer must not forge overlay metadata (opaque dirs, redirects).
    if (name.startsWith('trusted.overlay.')) continue;
    // tar-stream decodes pax values as UTF-8; re-encoding restores the bytes of any valid UTF-8 value.
    await setXattr(target, name, Buffer.from(String(v), 'utf8'));
  }
}
