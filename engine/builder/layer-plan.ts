/**
 * A layer being planned on top of an image (what COPY, ADD and WORKDIR
 * write): entries added here shadow the image's files, and the combined view
 * answers what dockerd's RW layer would — does the destination exist, is it a
 * directory, where does a link in the path lead (always inside the image).
 * Directories that exist below and get new children are carried into the
 * layer with their metadata, as overlayfs copies them up; new ones get the
 * owner and mode the instruction asks for. Parents come before children.
 */
import fs from 'node:fs';
import { resolveComponents, RootPathError, type RootTree } from '../storage/rootpath.js';
import type { FileStat, ImageFS, LayerEntry } from './backend.js';

export class LayerPlanError extends Error {}

export class PendingLayer {
  private readonly entries = new Map<string, LayerEntry>();

  constructor(
    private readonly base: ImageFS,
    readonly now = Math.floor(Date.now() / 1000),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entries in order: every directory before what it holds. */
  list(): LayerEntry[] {
    return [...this.entries.values()];
  }

  private pending(parts: readonly string[]): LayerEntry | undefined {
    return this.entries.get(parts.join('/'));
  }

  /** lstat in the combined view. */
  lstat(parts: readonly string[]): FileStat | undefined {
    for (let i = 1; i < parts.length; i++) {
      const e = this.pending(parts.slice(0, i));
      if (e && e.type !== 'dir') return undefined;
    }
    const e = this.pending(parts);
    if (e) return statOf(e);
    return this.base.lstat(parts);
  }

  readlink(parts: readonly string[]): string {
    const e = this.pending(parts);
    if (e) return e.linkname;
    return this.base.readlink(parts);
  }

  tree(): RootTree {
    return {
      lstat: (p) => {
        const st = this.lstat(p);
        return st ? ({ isSymbolicLink: () => st.type === 'symlink', isDirectory: () => st.type === 'dir' } as fs.Stats) : undefined;
      },
      readlink: (p) => this.readlink(p),
    };
  }

  /** Resolves a path inside the image (dockerd's ResolveScopedPath on the RW layer). */
  resolve(p: string, followFinal = true): string[] {
    try {
      return resolveComponents(this.tree(), p, followFinal);
    } catch (err) {
      if (err instanceof RootPathError) throw new LayerPlanError(err.message);
      throw err;
    }
  }

  isDir(parts: readonly string[]): boolean {
    return this.lstat(parts)?.type === 'dir';
  }

  /**
   * Makes every missing directory of parts (already resolved) with the given mode and
   * owner; directories that exist are carried into the layer unchanged.
   */
  mkdirAll(parts: readonly string[], mode: number, uid: number, gid: number): void {
    let missing = parts.length;
    for (let i = 1; i <= parts.length; i++) {
      const st = this.lstat(parts.slice(0, i));
      if (!st) {
        missing = i - 1;
        break;
      }
      if (st.type !== 'dir') throw new LayerPlanError(`mkdir /${parts.slice(0, i).join('/')}: not a directory`);
    }
    // Nothing to make: the layer stays as it is (existing directories are carried only when they change).
    if (missing === parts.length) return;
    for (let i = 1; i <= missing; i++) this.carry(parts.slice(0, i), this.lstat(parts.slice(0, i))!);
    for (let i = missing + 1; i <= parts.length; i++) {
      const key = parts.slice(0, i).join('/');
      this.entries.set(key, dirEntry(key, mode, uid, gid, this.now));
    }
  }

  /** An existing directory joins the layer (a child is added to it). */
  private carry(parts: readonly string[], st: FileStat): void {
    const key = parts.join('/');
    if (this.entries.has(key)) return;
    this.entries.set(key, { path: key, type: 'dir', mode: st.mode, uid: st.uid, gid: st.gid, mtime: this.now, size: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: st.xattrs });
  }

  /**
   * Puts an entry at a resolved path. Its parent must exist (as a directory); what was at the
   * path is replaced — a directory onto a directory keeps what the old one held, as untar merges.
   */
  put(entry: LayerEntry): void {
    const parts = entry.path.split('/');
    const parent = parts.slice(0, -1);
    for (let i = 1; i <= parent.length; i++) {
      const sub = parent.slice(0, i);
      const st = this.lstat(sub);
      if (!st) throw new LayerPlanError(`/${sub.join('/')}: no such file or directory`);
      if (st.type !== 'dir') throw new LayerPlanError(`/${sub.join('/')}: not a directory`);
      this.carry(sub, st);
    }
    const existing = this.lstat(parts);
    if (entry.type !== 'dir' || (existing && existing.type !== 'dir')) {
      // A non-directory replaces whatever the path held, including what a planned directory holds.
      const prefix = entry.path + '/';
      for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
    }
    // Map.set keeps an existing key's place, so parents stay before children.
    this.entries.set(entry.path, entry);
  }

  /** Changes owner of a planned entry (fixPermissions after a copy). */
  chown(path: string, uid: number, gid: number): void {
    const e = this.entries.get(path);
    if (e) {
      e.uid = uid;
      e.gid = gid;
    }
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }
}

export function dirEntry(path: string, mode: number, uid: number, gid: number, mtime: number): LayerEntry {
  return { path, type: 'dir', mode, uid, gid, mtime, size: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: {} };
}

function statOf(e: LayerEntry): FileStat {
  return { type: e.type === 'link' ? 'file' : e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size, mtime: e.mtime, linkname: e.type === 'symlink' ? e.linkname : '', devmajor: e.devmajor, devminor: e.devminor, xattrs: e.xattrs, inode: `layer:${e.path}` };
}
