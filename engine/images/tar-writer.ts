/**
 * A small streaming tar writer (ustar, with POSIX pax records when a field
 * does not fit) for layer tars we produce ourselves. Unlike tar-stream's
 * packer it writes pax values as raw bytes, which binary extended attributes
 * (security.capability) need.
 */
import type { Writable } from 'node:stream';
import { once } from 'node:events';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Content size (files only). */
  size?: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as SCHILY.xattr.<name> pax records. */
  xattrs?: Record<string, Buffer>;
}

const typeflags: Record<TarEntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);

function octal(n: number, width: number): string | undefined {
  const s = Math.floor(n).toString(8);
  return s.length <= width - 1 ? s.padStart(width - 1, '0') : undefined;
}

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

/** Splits a long name into ustar prefix + name, if possible. */
function splitUstarName(name: string): [string, string] | undefined {
  if (name.length <= 100) return ['', name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return [prefix, rest];
  }
  return undefined;
}

function paxRecord(key: string, value: Buffer): Buffer {
  // "<len> <key>=<value>\n" where len counts itself.
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function encodeHeader(f: { name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number; typeflag: string; linkname: string; devmajor: number; devminor: number }): Buffer {
  const b = Buffer.alloc(BLOCK);
  const put = (s: string, off: number, len: number) => b.write(s, off, len, 'utf8');
  put(f.name, 0, 100);
  put(octal(f.mode & 0o7777, 8) ?? '0000000', 100, 8);
  put(octal(f.uid, 8) ?? '0000000', 108, 8);
  put(octal(f.gid, 8) ?? '0000000', 116, 8);
  put(octal(f.size, 12) ?? '00000000000', 124, 12);
  put(octal(f.mtime, 12) ?? '00000000000', 136, 12);
  put('        ', 148, 8);
  put(f.typeflag, 156, 1);
  put(f.linkname, 157, 100);
  put('ustar\u000000', 257, 8);
  put(octal(f.devmajor, 8) ?? '0000000', 329, 8);
  put(octal(f.devminor, 8) ?? '0000000', 337, 8);
  put(f.prefix, 345, 155);
  let sum = 0;
  for (const byte of b) sum += byte;
  put(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8);
  return b;
}

export class TarWriter {
  private pendingPad = 0;

  constructor(private readonly out: Writable) {}

  private async write(buf: Buffer): Promise<void> {
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }

  /** Writes an entry's header; for files, follow with data() of exactly `size` bytes. */
  async header(e: TarEntry): Promise<void> {
    await this.flushPad();
    const size = e.type === 'file' ? (e.size ?? 0) : 0;
    const name = e.type === 'directory' && !e.name.endsWith('/') ? e.name + '/' : e.name;
    const linkname = e.linkname ?? '';
    const records: Buffer[] = [];
    let split = isAscii(name) ? splitUstarName(name) : undefined;
    if (!split) {
      records.push(paxRecord('path', Buffer.from(name)));
      split = ['', name.replace(/[^\x01-\x7f]/g, '_').slice(-100)];
    }
    let ustarLink = linkname;
    if (linkname.length > 100 || !isAscii(linkname)) {
      records.push(paxRecord('linkpath', Buffer.from(linkname)));
      ustarLink = linkname.replace(/[^\x01-\x7f]/g, '_').slice(0, 100);
    }
    if (octal(size, 12) === undefined) records.push(paxRecord('size', Buffer.from(String(size))));
    if (octal(e.uid, 8) === undefined) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
    if (octal(e.gid, 8) === undefined) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
    for (const [k, v] of Object.entries(e.xattrs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
    if (records.length > 0) {
      const pax = Buffer.concat(records);
      const base = name.replace(/\/$/, '').split('/').pop() ?? 'entry';
      const paxName = `PaxHeaders.0/${base.replace(/[^\x01-\x7f]/g, '_')}`.slice(0, 100);
      await this.write(encodeHeader({ name: paxName, prefix: '', mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime: e.mtime, typeflag: 'x', linkname: '', devmajor: 0, devminor: 0 }));
      await this.write(pax);
      const pad = (BLOCK - (pax.length % BLOCK)) % BLOCK;
      if (pad > 0) await this.write(ZEROS.subarray(0, pad));
    }
    await this.write(
      encodeHeader({
        name: split[1],
        prefix: split[0],
        mode: e.mode,
        uid: Math.min(e.uid, 0o7777777),
        gid: Math.min(e.gid, 0o7777777),
        size: octal(size, 12) === undefined ? 0 : size,
        mtime: Math.max(0, e.mtime),
        typeflag: typeflags[e.type],
        linkname: ustarLink,
        devmajor: e.devmajor ?? 0,
        devminor: e.devminor ?? 0,
      }),
    );
    this.pendingPad = (BLOCK - (size % BLOCK)) % BLOCK;
  }

  /**
   * Writes an entry's content from a stream of exactly the size given in the header
   * (storage/confined.regularFileStream pads or cuts a file that changed meanwhile).
   */
  async data(content: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of content) await this.write(chunk);
  }

  /** Writes exactly `size` bytes from a stream (a short stream is padded with zeros, a long one cut), as fileData does. */
  async streamData(input: AsyncIterable<Uint8Array>, size: number): Promise<void> {
    let done = 0;
    for await (const chunk of input) {
      if (done >= size) continue;
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, size - done));
      await this.write(buf);
      done += buf.length;
    }
    while (done < size) {
      const n = Math.min(ZEROS.length, size - done);
      await this.write(ZEROS.subarray(0, n));
      done += n;
    }
  }

  private async flushPad(): Promise<void> {
    if (this.pendingPad > 0) await this.write(ZEROS.subarray(0, this.pendingPad));
    this.pendingPad = 0;
  }

  /** Writes the end-of-archive marker and ends the output stream. */
  async finish(): Promise<void> {
    await this.flushPad();
    await this.write(ZEROS);
    this.out.end();
    if (!this.out.writableFinished) await once(this.out, 'finish');
  }
}
