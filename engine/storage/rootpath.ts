/**
 * Resolves a path inside a container root the way the container would see
 * it: symbolic links are followed but interpreted relative to the root, and
 * `..` stops at the root — so a link to "/" or "../../.." never reaches the
 * host. (The "securejoin" rule every engine uses for cp, user lookup, workdir.)
 */
import fs from 'node:fs';
import path from 'node:path';

const MAX_LINKS = 255;

export class RootPathError extends Error {}

/**
 * Returns the host path for `p` inside `root`. When followFinal is false the
 * last component is not followed (for lstat-like use).
 */
export function resolveInRoot(root: string, p: string, followFinal = true): string {
  const pending = p.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, comp);
    const isFinal = pending.length === 0;
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(candidate);
    } catch {
      st = undefined;
    }
    if (st?.isSymbolicLink() && (!isFinal || followFinal)) {
      if (++links > MAX_LINKS) throw new RootPathError(`too many levels of symbolic links: ${p}`);
      const target = fs.readlinkSync(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      continue;
    }
    resolved.push(comp);
  }
  return path.join(root, ...resolved);
}

/** Reads a file inside a container root, or returns undefined if it does not exist. */
export function readFileInRoot(root: string, p: string): string | undefined {
  try {
    const host = resolveInRoot(root, p);
    // O_NOFOLLOW: the resolved path must not be swapped for a link behind our back.
    const fd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      return fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** mkdir -p inside a root, owned by uid:gid for the created components. */
export function mkdirInRoot(root: string, p: string, uid = 0, gid = 0): string {
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
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
