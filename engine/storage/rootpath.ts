/**
 * Resolves a path inside a container root the way the container would see
 * it: symbolic links are followed but interpreted relative to the root, and
 * `..` stops at the root — so a link to "/" or "../../.." never reaches the
 * host. (The "securejoin" rule every engine uses for cp, user lookup, workdir.)
 * Reading what such a path names goes through storage/confined.ts.
 */
import fs from 'node:fs';
import path from 'node:path';

const MAX_LINKS = 255;

export class RootPathError extends Error {}

/** The components of a path, without empty and "." ones. */
export function pathComponents(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/** What resolving needs from a tree, addressed by components under its root. */
export interface RootTree {
  lstat(parts: string[]): fs.Stats | undefined;
  readlink(parts: string[]): string;
  /** Makes a missing directory on the way (only when resolving with `create`). */
  mkdir?(parts: string[]): void;
}

/**
 * Resolves p to components free of links: a link's target is read relative to the root and `..`
 * stops there. The final component is followed only when asked; with `create`, missing directories
 * on the way are made through tree.mkdir. Throws RootPathError on a link loop.
 */
export function resolveComponents(tree: RootTree, p: string, followFinal: boolean, create = false): string[] {
  const pending = pathComponents(p);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      resolved.pop();
      continue;
    }
    const isFinal = pending.length === 0;
    const candidate = [...resolved, comp];
    const st = tree.lstat(candidate);
    if (st?.isSymbolicLink() && (!isFinal || followFinal)) {
      if (++links > MAX_LINKS) throw new RootPathError(`too many levels of symbolic links: ${p}`);
      const target = tree.readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...pathComponents(target));
      continue;
    }
    if (!st && create && (!isFinal || followFinal)) tree.mkdir?.(candidate);
    resolved.push(comp);
  }
  return resolved;
}

/** A root directory on the host, seen through plain paths. */
function hostTree(root: string): RootTree {
  return {
    lstat(parts) {
      try {
        return fs.lstatSync(path.join(root, ...parts));
      } catch {
        return undefined;
      }
    },
    readlink: (parts) => fs.readlinkSync(path.join(root, ...parts)),
  };
}

/**
 * Returns the host path for `p` inside `root`. When followFinal is false the
 * last component is not followed (for lstat-like use).
 */
export function resolveInRoot(root: string, p: string, followFinal = true): string {
  return path.join(root, ...resolveComponents(hostTree(root), p, followFinal));
}

/** mkdir -p inside a root, owned by uid:gid for the created components. */
export function mkdirInRoot(root: string, p: string, uid = 0, gid = 0): string {
  const parts = pathComponents(p);
  let rel = '';
  for (const part of parts) {
    rel = `${rel}/${part}`;
    const host = resolveInRoot(root, rel);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(host);
    } catch {
      st = undefined;
    }
    if (!st) {
      fs.mkdirSync(host, { mode: 0o755 });
      fs.chownSync(host, uid, gid);
    } else if (!st.isDirectory()) {
      throw new RootPathError(`${rel} is not a directory`);
    }
  }
  return resolveInRoot(root, p);
}
