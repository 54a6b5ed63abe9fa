/**
 * File-change events for bind mounts: neither a 9p nor a virtiofs mount carries the host's inotify events into the
 * guest, so the host agent watches the bind sources of running containers (`binds()` tells it
 * which) and sends the changed paths here; re-setting a file's own mode in the guest is a local
 * setattr, which fires IN_ATTRIB for the inotify watches on it and on its folder in the guest
 * (containers included: a bind mount shares the inodes). A created or deleted entry touches its
 * folder instead. Limit: with 9p's cache=mmap (no metadata cache) a lookup makes a new inode, so
 * only watches on inodes the guest keeps (the bind mount's root folder) see the event; virtiofs
 * keeps its inodes, so nested watches are woken there too.
 */
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { GUEST_ENGINE_SOCKET } from '../channel/protocol.js';

function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** At most this many setattrs per replay: a big host operation (an untar, a checkout) becomes touches of its folders. */
export const MAX_REPLAY = 256;

/** The paths to touch for a batch: the entries themselves, or their distinct folders when there are too many. */
export function replayTargets(paths: unknown, shares: readonly string[]): string[] {
  if (!Array.isArray(paths)) throw new Error('paths must be a list');
  const inShares = [...new Set(paths.filter((p): p is string => typeof p === 'string' && path.posix.isAbsolute(p)).map((p) => path.posix.normalize(p)))].filter((p) => shares.some((s) => within(p, s)));
  if (inShares.length <= MAX_REPLAY) return inShares;
  return [...new Set(inShares.map((p) => path.posix.dirname(p)))].filter((p) => shares.some((s) => within(p, s))).slice(0, MAX_REPLAY);
}

/** Replays host changes as attribute changes (asynchronously: 9p round trips must not stall the agent); returns how many paths were touched. */
export async function replayChanges(paths: unknown, shares: readonly string[]): Promise<number> {
  let n = 0;
  const touched = new Set<string>();
  for (const p of replayTargets(paths, shares)) {
    // The entry itself, or its folder when it is gone (a delete or rename on the host).
    for (const target of [p, path.posix.dirname(p)]) {
      if (touched.has(target) || !shares.some((s) => within(target, s))) continue;
      try {
        const st = await fsp.lstat(target);
        // A symlink has no mode of its own to set: its folder is touched instead.
        if (st.isSymbolicLink()) throw new Error('symlink');
        // The same mode again: a setattr (IN_ATTRIB) that changes nothing on the host but its ctime
        // (re-setting the times would round them to what JavaScript's Date holds).
        await fsp.chmod(target, st.mode & 0o7777);
        touched.add(target);
        n++;
        break;
      } catch {
        // Gone in the guest too: try its folder.
      }
    }
  }
  return n;
}

interface ContainerSummary {
  Mounts?: Array<{ Type?: string; Source?: string }>;
}

/** The bind-mount sources of running containers that lie in a shared folder (what the host should watch); rejects when berthd does not answer. */
export function bindSources(shares: readonly string[], socketPath = GUEST_ENGINE_SOCKET): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: '/containers/json', timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`/containers/json answered ${res.statusCode}`);
          const list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ContainerSummary[];
          const out = new Set<string>();
          for (const c of list) for (const m of c.Mounts ?? []) if (m.Type === 'bind' && m.Source && shares.some((s) => within(m.Source!, s))) out.add(m.Source);
          resolve([...out].sort());
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('berthd did not list its containers within 5 s')));
  });
}
