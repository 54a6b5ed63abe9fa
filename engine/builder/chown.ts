/**
 * `--chown=user[:group]` as dockerd 20.10 resolves it: numbers as they are,
 * names through the destination image's /etc/passwd and /etc/group (read
 * inside the image, links never leaving it); a lone user name is also looked
 * up as the group name.
 */
import type { PendingLayer } from './layer-plan.js';
import type { ImageFS } from './backend.js';
import type { Identity } from './copy.js';

export class ChownError extends Error {}

async function readInImage(layer: PendingLayer, fs: ImageFS, file: string): Promise<string | undefined> {
  const parts = layer.resolve(file, true);
  const st = fs.lstat(parts);
  if (!st || st.type !== 'file') return undefined;
  return (await fs.readFile(parts, 4 * 1024 * 1024)).toString('utf8');
}

function lookup(text: string | undefined, name: string, idField: number): number | undefined {
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length <= idField || f[0] !== name) continue;
    const id = Number(f[idField]);
    if (Number.isInteger(id)) return id;
  }
  return undefined;
}

const numeric = (s: string) => (/^[+-]?\d+$/.test(s) ? Number(s) : undefined);

export async function resolveChown(spec: string, layer: PendingLayer, fs: ImageFS): Promise<Identity> {
  const parts = spec.split(':');
  if (parts.length > 2) throw new ChownError(`unable to convert uid/gid chown string to host mapping: invalid chown string format: ${spec}`);
  const [userStr, groupStr = parts[0]!] = parts as [string, string?];
  let uid = numeric(userStr);
  let gid = numeric(groupStr);
  if (uid === undefined) {
    uid = lookup(await readInImage(layer, fs, '/etc/passwd'), userStr, 2);
    if (uid === undefined) throw new ChownError(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${userStr}: no such user: ${userStr}`);
  }
  if (gid === undefined) {
    gid = lookup(await readInImage(layer, fs, '/etc/group'), groupStr, 2);
    if (gid === undefined) throw new ChownError(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${groupStr}: no such group: ${groupStr}`);
  }
  return { uid, gid };
}
