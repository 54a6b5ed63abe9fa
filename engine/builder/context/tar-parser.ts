/**
 * A push parser for tar streams (ustar, GNU long names, PAX records) that
 * reports each entry's header fields as Go's archive/tar reads them — raw
 * mode bits, numeric owners, names, xattrs — and where its content lies in
 * the stream, so the build context can be indexed while it is spooled to disk
 * in one sequential write. Hostile input is refused, never trusted: checksums
 * are verified, extension headers are capped, sparse files are refused.
 */

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** Name as the archive gives it (PAX path, GNU long name or ustar prefix/name). */
  name: string;
  type: TarType;
  /** The raw typeflag character (tarsum hashes it). */
  typeflag: string;
  /** The raw mode field (permission and special bits as stored). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* records (binary values as latin1 strings, the way Go keeps them). */
  xattrs: Record<string, string>;
}

export interface TarParserLimits {
  /** Largest PAX or GNU long-name record accepted. */
  maxExtensionSize: number;
}

export class TarFormatError extends Error {}

const BLOCK = 512;

const typeOf: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

function cstring(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end >= off && end < off + len ? end : off + len);
}

/** Octal (NUL/space padded) or GNU base-256 numbers. */
function numeric(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    // base-256, two's complement; the first byte's top bit is the marker.
    let v = b[off]! & 0x7f;
    const neg = (b[off]! & 0x40) !== 0;
    if (neg) v = b[off]! ^ 0xff;
    for (let i = 1; i < len; i++) {
      const byte = neg ? b[off + i]! ^ 0xff : b[off + i]!;
      v = v * 256 + byte;
      if (v > Number.MAX_SAFE_INTEGER) throw new TarFormatError('archive/tar: numeric field out of range');
    }
    return neg ? -(v + 1) : v;
  }
  const s = b.toString('latin1', off, off + len).replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError('archive/tar: invalid tar header');
  return parseInt(s, 8);
}

function checksumOk(b: Buffer): boolean {
  const stored = numeric(b, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** PAX records: "<len> <key>=<value>\n". */
function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) throw new TarFormatError('archive/tar: invalid PAX record');
    const len = Number(data.toString('latin1', pos, sp));
    if (!Number.isInteger(len) || len <= sp - pos || pos + len > data.length || data[pos + len - 1] !== 0x0a) throw new TarFormatError('archive/tar: invalid PAX record');
    const rec = data.subarray(sp + 1, pos + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError('archive/tar: invalid PAX record');
    out.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1));
    pos += len;
  }
  return out;
}

export interface TarParserEvents {
  /** A file-system entry; its content (size bytes) starts at dataOffset in the stream. */
  entry(h: TarHeader, dataOffset: number): void;
  /** Content bytes of the current entry. */
  data(chunk: Buffer): void;
  /** The current entry's content is complete. */
  entryEnd(): void;
}

type State = 'header' | 'data' | 'pad' | 'extension' | 'done';

export class TarParser {
  private state: State = 'header';
  private offset = 0;
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private remaining = 0;
  private padding = 0;
  private ext: { kind: string; buf: Buffer; fill: number } | undefined;
  private pax = new Map<string, Buffer>();
  private globalPax = new Map<string, Buffer>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private inEntry = false;

  constructor(
    private readonly on: TarParserEvents,
    private readonly limits: TarParserLimits = { maxExtensionSize: 1 << 20 },
  ) {}

  /** Bytes consumed so far (the position in the uncompressed stream). */
  get position(): number {
    return this.offset;
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && this.state !== 'done') {
      switch (this.state) {
        case 'header': {
          const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
          chunk.copy(this.header, this.headerFill, pos, pos + n);
          this.headerFill += n;
          pos += n;
          this.offset += n;
          if (this.headerFill === BLOCK) {
            this.headerFill = 0;
            this.onHeader();
          }
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.on.data(chunk.subarray(pos, pos + n));
          this.remaining -= n;
          pos += n;
          this.offset += n;
          if (this.remaining === 0) this.endData();
          break;
        }
        case 'extension': {
          const ext = this.ext!;
          const n = Math.min(ext.buf.length - ext.fill, chunk.length - pos);
          chunk.copy(ext.buf, ext.fill, pos, pos + n);
          ext.fill += n;
          pos += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.endExtension();
          break;
        }
        case 'pad': {
          const n = Math.min(this.padding, chunk.length - pos);
          this.padding -= n;
          pos += n;
          this.offset += n;
          if (this.padding === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** The stream ended: it must not stop inside an entry. */
  end(): void {
    if (this.state === 'done') return;
    // An archive that stops right after an entry's content, without padding or end-of-archive
    // blocks, is accepted as Go's reader accepts it: the docker CLI sends one for `build -f -`.
    const atBoundary = (this.state === 'header' && this.headerFill === 0) || (this.state === 'pad' && this.padding === this.padTotal);
    if (atBoundary && !this.inEntry) {
      this.state = 'done';
      return;
    }
    throw new TarFormatError('unexpected EOF');
  }

  private padTotal = 0;

  private padTo(size: number): void {
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.padTotal = this.padding;
    this.state = this.padding > 0 ? 'pad' : 'header';
  }

  private onHeader(): void {
    const b = this.header;
    if (isZero(b)) {
      this.state = 'done';
      return;
    }
    if (!checksumOk(b)) throw new TarFormatError('archive/tar: invalid tar header');
    const typeflag = String.fromCharCode(b[156]!);
    const size = numeric(b, 124, 12);
    if (size < 0) throw new TarFormatError('archive/tar: invalid tar header');
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > this.limits.maxExtensionSize) throw new TarFormatError(`archive/tar: ${typeflag === 'x' || typeflag === 'g' ? 'PAX' : 'GNU long name'} header of ${size} bytes exceeds the ${this.limits.maxExtensionSize}-byte limit`);
      this.ext = { kind: typeflag, buf: Buffer.alloc(size), fill: 0 };
      this.remaining = size;
      this.state = 'extension';
      if (size === 0) this.endExtension();
      return;
    }
    if (typeflag === 'S') throw new TarFormatError('archive/tar: GNU sparse files are not supported in a build context');
    const type = typeOf[typeflag];
    if (!type) throw new TarFormatError(`unhandled tar header type ${b[156]}`);
    const magic = b.toString('latin1', 257, 263);
    const version = b.toString('latin1', 263, 265);
    const ustar = magic === 'ustar\0' && version === '00';
    const gnu = magic === 'ustar ' && version === ' \0';
    let name = cstring(b, 0, 100);
    if (ustar) {
      const prefix = cstring(b, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const h: TarHeader = {
      name,
      type,
      typeflag: typeflag === '\0' ? '0' : typeflag,
      mode: numeric(b, 100, 8),
      uid: numeric(b, 108, 8),
      gid: numeric(b, 116, 8),
      size,
      mtime: numeric(b, 136, 12),
      linkname: cstring(b, 157, 100),
      uname: ustar || gnu ? cstring(b, 265, 32) : '',
      gname: ustar || gnu ? cstring(b, 297, 32) : '',
      devmajor: ustar || gnu ? numeric(b, 329, 8) : 0,
      devminor: ustar || gnu ? numeric(b, 337, 8) : 0,
      xattrs: {},
    };
    if (this.longName !== undefined) h.name = this.longName;
    if (this.longLink !== undefined) h.linkname = this.longLink;
    for (const records of [this.globalPax, this.pax]) this.applyPax(h, records);
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    // Go's compatibility rule: an old-style regular file whose name ends in "/" is a directory.
    if (typeflag === '\0' && h.name.endsWith('/')) {
      h.type = 'dir';
      h.typeflag = '5';
    }
    // Only regular files carry content (Go reads no data for header-only types, whatever their size field says).
    const content = h.type === 'file' ? h.size : 0;
    this.inEntry = true;
    this.on.entry(h, this.offset);
    this.remaining = content;
    this.contentSize = content;
    if (content === 0) this.endData();
    else this.state = 'data';
  }

  private applyPax(h: TarHeader, records: Map<string, Buffer>): void {
    for (const [k, v] of records) {
      const s = v.toString('utf8');
      const num = () => {
        if (!/^-?\d+(\.\d+)?$/.test(s)) throw new TarFormatError(`archive/tar: invalid PAX record ${k}`);
        return Math.trunc(Number(s));
      };
      switch (k) {
        case 'path':
          h.name = s;
          break;
        case 'linkpath':
          h.linkname = s;
          break;
        case 'size':
          h.size = num();
          if (h.size < 0) throw new TarFormatError('archive/tar: invalid PAX record size');
          break;
        case 'uid':
          h.uid = num();
          break;
        case 'gid':
          h.gid = num();
          break;
        case 'uname':
          h.uname = s;
          break;
        case 'gname':
          h.gname = s;
          break;
        case 'mtime':
          h.mtime = num();
          break;
        default:
          if (k.startsWith('SCHILY.xattr.')) h.xattrs[k.slice('SCHILY.xattr.'.length)] = v.toString('latin1');
          else if (k.startsWith('GNU.sparse.')) throw new TarFormatError('archive/tar: sparse files are not supported in a build context');
      }
    }
  }

  private contentSize = 0;

  private endData(): void {
    this.on.entryEnd();
    this.inEntry = false;
    this.padTo(this.contentSize);
  }

  private endExtension(): void {
    const ext = this.ext!;
    this.ext = undefined;
    const size = ext.buf.length;
    switch (ext.kind) {
      case 'x':
        this.pax = parsePax(ext.buf);
        break;
      case 'g':
        for (const [k, v] of parsePax(ext.buf)) this.globalPax.set(k, v);
        break;
      case 'L':
        this.longName = cstring(ext.buf, 0, ext.buf.length);
        break;
      case 'K':
        this.longLink = cstring(ext.buf, 0, ext.buf.length);
        break;
    }
    this.padTo(size);
  }
}
