/**
 * The per-file content hash dockerd's classic builder puts into COPY/ADD
 * cache keys (`COPY file:<hash> in /dst`): TarSum v1 — sha256 over the tar
 * header fields name, mode, uid, gid, size, typeflag, linkname, uname, gname,
 * devmajor, devminor and the sorted xattrs (never the mtime), then the
 * content. Touching a file keeps its hash; chmod, chown or an edit change it.
 */
import { createHash, type Hash } from 'node:crypto';

export interface TarsumFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, string>;
}

/** The hashed header text, in TarSum v1 order. */
export function tarsumHeader(h: TarsumFields): string {
  let s = `name${h.name}mode${h.mode}uid${h.uid}gid${h.gid}size${h.size}typeflag${h.typeflag}linkname${h.linkname}uname${h.uname}gname${h.gname}devmajor${h.devmajor}devminor${h.devminor}`;
  for (const k of Object.keys(h.xattrs).sort()) s += k + h.xattrs[k];
  return s;
}

/** A running TarSum of one entry: header now, content as it streams. */
export function startTarsum(h: TarsumFields): Hash {
  // Header text is UTF-8 for names; xattr values are latin1-carried bytes.
  const hash = createHash('sha256');
  const xattrKeys = Object.keys(h.xattrs).sort();
  if (xattrKeys.length === 0) return hash.update(tarsumHeader(h));
  hash.update(tarsumHeader({ ...h, xattrs: {} }));
  for (const k of xattrKeys) hash.update(k).update(Buffer.from(h.xattrs[k]!, 'latin1'));
  return hash;
}
