/**
 * Sparse files in tar archives (GNU tar --sparse), which tar-stream does not understand: it drops
 * GNU's old sparse entries (type 'S', whose extension blocks then throw its parsing off) and hands
 * PAX sparse ones over as a file named GNUSparseFile.NNN/name holding the packed data. Every such
 * entry is either restored exactly — same size, same bytes, holes left as holes — or refused.
 *
 * The formats (GNU tar's manual, "Storing Sparse Files"):
 *  - old GNU ('S'): the map (offset, numbytes pairs) in the header, continued in 512-byte extension
 *    blocks while the "isextended" byte is set; the real size in the header too.
 *  - PAX 0.0: repeated GNU.sparse.offset / GNU.sparse.numbytes records (tar-stream keeps only the
 *    last of a repeated key); PAX 0.1: GNU.sparse.map = "off,len,off,len..."; both with
 *    GNU.sparse.size (the real size).
 *  - PAX 1.0: GNU.sparse.major=1, minor=0, GNU.sparse.name, GNU.sparse.realsize; the map is at the
 *    start of the entry's data as decimal lines (count, then offset/length pairs), padded to 512.
 *
 * `sparseNormalizer()` sits between the archive bytes and tar-stream and rewrites the first three
 * into PAX 0.1 (a pax header with GNU.sparse.map, then a plain file header), leaving everything else
 * byte for byte; `sparseInfo()` reads what an entry says; `writeSparse()` writes it. Checksums of
 * the original archive (DiffIDs) are taken before the normalizer.
 */
import fs from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import tar from 'tar-stream';
import { InvalidParameterError } from '../errdefs.js';

const BLOCK = 512;
/** tar-stream's own cap on a long header. */
const MAX_HEADER_SIZE = 4 * 1024 * 1024;
/** A map longer than this is refused (GNU tar writes far smaller ones for any real file). */
const MAX_REGIONS = 1_000_000;

function bad(why: string): InvalidParameterError {
  return new InvalidParameterError(`invalid sparse file in archive: ${why}`);
}

/** tar-stream's checksum rule: the header bytes summed with the checksum field as spaces. */
function cksum(block: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < BLOCK; i++) sum += block[i]!;
  return sum;
}

/** A numeric header field: octal (spaces and NULs allowed) or GNU's base-256. */
function num(block: Buffer, off: number, len: number): number {
  const f = block.subarray(off, off + len);
  if (f[0]! & 0x80) {
    if (f[0] !== 0x80) return NaN; // negative
    let v = 0;
    for (let i = 1; i < f.length; i++) v = v * 256 + f[i]!;
    return v;
  }
  const s = f.toString('latin1').replace(/\0.*$/s, '').trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function writeOctal(block: Buffer, off: number, len: number, value: number): void {
  block.write(value.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

function setChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

interface PaxRecord {
  key: string;
  value: string;
}

/** Parses pax records as tar-stream does (UTF-8, stopping at the first malformed one). */
function parsePax(buf: Buffer): PaxRecord[] {
  const out: PaxRecord[] = [];
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.subarray(0, i).toString(), 10);
    if (!len) break;
    const rec = buf.subarray(i + 1, len - 1).toString();
    const eq = rec.indexOf('=');
    if (eq === -1) break;
    out.push({ key: rec.slice(0, eq), value: rec.slice(eq + 1) });
    buf = buf.subarray(len);
  }
  return out;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return Buffer.from(`${len}${body}`);
}

/** A pax 'x' header block for `data`, modelled on the entry header that follows. */
function paxHeader(entry: Buffer, data: Buffer): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write('././@PaxHeader', 0, 100, 'latin1');
  entry.copy(h, 100, 100, 124); // mode, uid, gid
  writeOctal(h, 124, 12, data.length);
  entry.copy(h, 136, 136, 148); // mtime
  h[156] = 0x78; // 'x'
  h.write('ustar\u000000', 257, 8, 'latin1');
  setChecksum(h);
  return h;
}

function padded(data: Buffer): Buffer {
  const pad = padding(data.length);
  return pad ? Buffer.concat([data, Buffer.alloc(pad)]) : data;
}

type Mode =
  | { kind: 'header' }
  | { kind: 'data'; left: number } // pass through
  | { kind: 'long'; type: number; header: Buffer; size: number; left: number; chunks: Buffer[] } // x, g, L, K bodies
  | { kind: 'ext'; header: Buffer; map: Array<[number, number]> } // 'S' extension blocks
  | { kind: 'raw' }; // not a tar we understand: hand over unchanged (tar-stream reports it)

/**
 * Rewrites GNU 'S' and PAX 0.0 sparse entries into PAX 0.1 as the archive streams through (see
 * the module comment); every other byte passes unchanged.
 */
export function sparseNormalizer(): Transform {
  let buf: Buffer = Buffer.alloc(0);
  let mode: Mode = { kind: 'header' };
  let global: PaxRecord[] = [];
  /** An 'x' header and its body, held back until the header it applies to is seen. */
  let pending: { header: Buffer; body: Buffer; records: PaxRecord[] } | undefined;

  const flushPending = (out: Buffer[], extra?: PaxRecord[]) => {
    if (!pending && !extra) return;
    let records = pending?.records ?? [];
    const zeroZero = records.some((r) => r.key === 'GNU.sparse.offset' || r.key === 'GNU.sparse.numbytes');
    if (!extra && !zeroZero) {
      out.push(pending!.header, padded(pending!.body));
      pending = undefined;
      return;
    }
    if (zeroZero) {
      // PAX 0.0: the pairs in order become a 0.1 map.
      const offs = records.filter((r) => r.key === 'GNU.sparse.offset').map((r) => r.value);
      const lens = records.filter((r) => r.key === 'GNU.sparse.numbytes').map((r) => r.value);
      if (offs.length !== lens.length) throw bad('GNU.sparse.offset and GNU.sparse.numbytes do not pair up');
      records = records.filter((r) => r.key !== 'GNU.sparse.offset' && r.key !== 'GNU.sparse.numbytes');
      records.push({ key: 'GNU.sparse.map', value: offs.map((o, i) => `${o},${lens[i]}`).join(',') });
    }
    if (extra) records = [...records.filter((r) => !extra.some((e) => e.key === r.key)), ...extra];
    const body = Buffer.concat(records.map((r) => paxRecord(r.key, r.value)));
    out.push(paxHeader(pending?.header ?? Buffer.alloc(BLOCK), body), padded(body));
    pending = undefined;
  };

  /** Emits an 'S' header as pax 0.1 + a plain file header. */
  const emitSparse = (out: Buffer[], header: Buffer, map: Array<[number, number]>) => {
    const realSize = num(header, 483, 12);
    if (!Number.isSafeInteger(realSize)) throw bad('unreadable real size in a GNU sparse header');
    const records: PaxRecord[] = [
      { key: 'GNU.sparse.size', value: String(realSize) },
      { key: 'GNU.sparse.numblocks', value: String(map.length) },
      { key: 'GNU.sparse.map', value: map.map(([o, l]) => `${o},${l}`).join(',') },
    ];
    const h = Buffer.from(header);
    h[156] = 0x30; // '0'
    // The old GNU fields past the name prefix (atime, ctime, the map) mean nothing to a plain header.
    h.fill(0, 345, BLOCK);
    setChecksum(h);
    if (!pending) pending = { header: h, body: Buffer.alloc(0), records: [] };
    flushPending(out, records);
    out.push(h);
  };

  const readMap = (block: Buffer, off: number, count: number, into: Array<[number, number]>) => {
    for (let i = 0; i < count; i++) {
      const o = off + i * 24;
      if (block[o] === 0) break;
      const offset = num(block, o, 12);
      const size = num(block, o + 12, 12);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size)) throw bad('unreadable map in a GNU sparse header');
      if (into.length >= MAX_REGIONS) throw bad(`more than ${MAX_REGIONS} regions`);
      into.push([offset, size]);
    }
  };

  const step = (out: Buffer[]): boolean => {
    switch (mode.kind) {
      case 'raw':
        out.push(buf);
        buf = Buffer.alloc(0);
        return false;
      case 'data': {
        if (buf.length === 0) return false;
        const n = Math.min(mode.left, buf.length);
        out.push(buf.subarray(0, n));
        buf = buf.subarray(n);
        mode.left -= n;
        if (mode.left === 0) mode = { kind: 'header' };
        return true;
      }
      case 'long': {
        if (buf.length === 0) return false;
        const n = Math.min(mode.left, buf.length);
        mode.chunks.push(buf.subarray(0, n));
        buf = buf.subarray(n);
        mode.left -= n;
        if (mode.left > 0) return true;
        const all = Buffer.concat(mode.chunks);
        const body = all.subarray(0, mode.size);
        const type = mode.type;
        const header = mode.header;
        mode = { kind: 'header' };
        if (type === 0x78) {
          // Two pax headers in a row: tar-stream keeps the second only; so do we.
          if (pending) out.push(pending.header, padded(pending.body));
          pending = { header, body, records: parsePax(body) };
        } else {
          if (type === 0x67) global = parsePax(body);
          out.push(header, all);
        }
        return true;
      }
      case 'ext': {
        if (buf.length < BLOCK) return false;
        const block = buf.subarray(0, BLOCK);
        buf = buf.subarray(BLOCK);
        readMap(block, 0, 21, mode.map);
        if (block[504]) return true;
        const { header, map } = mode;
        emitSparse(out, header, map);
        mode = { kind: 'data', left: num(header, 124, 12) + padding(num(header, 124, 12)) };
        if (mode.left === 0) mode = { kind: 'header' };
        return true;
      }
      case 'header': {
        if (buf.length < BLOCK) return false;
        const block = Buffer.from(buf.subarray(0, BLOCK));
        buf = buf.subarray(BLOCK);
        const c = cksum(block);
        if (c === 8 * 32) {
          // An end-of-archive block: what follows (more zeros, or garbage tar-stream reads on) is passed on as read.
          if (pending) flushPending(out);
          out.push(block);
          return true;
        }
        if (c !== num(block, 148, 8)) {
          if (pending) flushPending(out);
          out.push(block);
          mode = { kind: 'raw' };
          return true;
        }
        const type = block[156]!;
        const size = num(block, 124, 12);
        if (!Number.isSafeInteger(size) || size < 0) {
          if (pending) flushPending(out);
          out.push(block);
          mode = { kind: 'raw' };
          return true;
        }
        if (type === 0x78 || type === 0x67 || type === 0x4c || type === 0x4b) {
          if (size > MAX_HEADER_SIZE) {
            out.push(block);
            mode = { kind: 'raw' };
            return true;
          }
          // An 'L'/'K' or 'g' header may sit between a pax header and its entry: both stay in order.
          if (pending && type !== 0x78) flushPending(out);
          mode = { kind: 'long', type, header: block, size, left: size + padding(size), chunks: [] };
          if (mode.left === 0) {
            mode = { kind: 'header' };
            if (type === 0x78) pending = { header: block, body: Buffer.alloc(0), records: [] };
            else out.push(block);
          }
          return true;
        }
        if (type === 0x53) {
          // GNU old sparse.
          const map: Array<[number, number]> = [];
          readMap(block, 386, 4, map);
          if (block[482]) {
            mode = { kind: 'ext', header: block, map };
            return true;
          }
          emitSparse(out, block, map);
          mode = size + padding(size) > 0 ? { kind: 'data', left: size + padding(size) } : { kind: 'header' };
          return true;
        }
        // Any other entry: its data is as long as tar-stream will take it (a pax size wins; directories carry none).
        const lastSize = (rs: PaxRecord[]) => rs.filter((r) => r.key === 'size').pop()?.value;
        const paxSize = pending ? (lastSize(pending.records) ?? lastSize(global)) : undefined;
        if (pending) flushPending(out);
        out.push(block);
        let name = block.toString('utf8', 0, 100).replace(/\0.*$/s, '');
        if (block.toString('latin1', 257, 263) === 'ustar\0' && block[345]) name = block.toString('utf8', 345, 500).replace(/\0.*$/s, '') + '/' + name;
        const isDir = type === 0x35 || ((type === 0 || type === 0x30) && name.endsWith('/'));
        const dataSize = isDir ? 0 : paxSize ? parseInt(paxSize, 10) : size;
        if (!(dataSize >= 0)) {
          mode = { kind: 'raw' };
          return true;
        }
        if (dataSize > 0) mode = { kind: 'data', left: dataSize + padding(dataSize) };
        return true;
      }
    }
  };

  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const out: Buffer[] = [];
      try {
        while (step(out)) {
          /* next block */
        }
      } catch (err) {
        cb(err as Error);
        return;
      }
      for (const o of out) this.push(o);
      cb();
    },
    flush(cb: TransformCallback) {
      const out: Buffer[] = [];
      if (pending) flushPending(out);
      if (buf.length) out.push(buf);
      for (const o of out) this.push(o);
      cb();
    },
  });
}

/** tar-stream's extractor behind the normalizer: sparse entries arrive described by sparseInfo(). */
export function extractTar(input: Readable): tar.Extract {
  const ex = tar.extract();
  const norm = sparseNormalizer();
  input.on('error', (err) => ex.destroy(err));
  norm.on('error', (err) => ex.destroy(err));
  input.pipe(norm).pipe(ex);
  return ex;
}

export interface SparseInfo {
  /** The file's size with its holes. */
  realSize: number;
  /** The entry's real name (PAX 1.0 stores the file as GNUSparseFile.NNN/name). */
  name: string;
  /** Data regions, in order; undefined while it still sits at the start of the data (PAX 1.0). */
  map: Array<[number, number]> | undefined;
}

function parseNumber(v: string | undefined, what: string): number {
  if (v === undefined || !/^\d+$/.test(v)) throw bad(`${what} is not a number`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw bad(`${what} is too large`);
  return n;
}

function parseMapList(v: string): Array<[number, number]> {
  if (v === '') return [];
  const nums = v.split(',');
  if (nums.length % 2 !== 0) throw bad('GNU.sparse.map has an odd number of values');
  if (nums.length / 2 > MAX_REGIONS) throw bad(`more than ${MAX_REGIONS} regions`);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < nums.length; i += 2) out.push([parseNumber(nums[i], 'a map offset'), parseNumber(nums[i + 1], 'a map length')]);
  return out;
}

/**
 * What a (normalized) entry says about sparseness: undefined for an ordinary file; an
 * InvalidParameterError for a sparse format this reader does not know, rather than a wrong file.
 */
export function sparseInfo(header: tar.Header): SparseInfo | undefined {
  const pax = header.pax as Record<string, string> | undefined | null;
  if (!pax || !Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) return undefined;
  const major = pax['GNU.sparse.major'];
  const minor = pax['GNU.sparse.minor'];
  if (major !== undefined || minor !== undefined) {
    if (major !== '1' || minor !== '0') throw bad(`unsupported sparse format ${major ?? '?'}.${minor ?? '?'}`);
    const name = pax['GNU.sparse.name'];
    if (name === undefined || name === '') throw bad('GNU.sparse.name is missing');
    return { realSize: parseNumber(pax['GNU.sparse.realsize'], 'GNU.sparse.realsize'), name, map: undefined };
  }
  const map = pax['GNU.sparse.map'];
  if (map === undefined) throw bad('a GNU.sparse record without a map');
  const realSize = parseNumber(pax['GNU.sparse.size'] ?? pax['GNU.sparse.realsize'], 'GNU.sparse.size');
  return { realSize, name: pax['GNU.sparse.name'] || header.name, map: parseMapList(map) };
}

function checkMap(map: Array<[number, number]>, realSize: number, stored: number): void {
  let end = 0;
  let total = 0;
  for (const [off, len] of map) {
    if (off < end) throw bad('map regions overlap or are out of order');
    if (off + len > realSize) throw bad('a map region lies past the end of the file');
    end = off + len;
    total += len;
  }
  if (total !== stored) throw bad(`the map describes ${total} bytes of data but the entry holds ${stored}`);
}

/** Byte-at-a-time reader over an entry's body (for the PAX 1.0 map that precedes the data). */
class BodyReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  consumed = 0;

  constructor(body: AsyncIterable<unknown>) {
    this.it = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }

  async line(maxLen = 32): Promise<string> {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0) {
        const s = this.buf.subarray(0, nl).toString('latin1');
        this.buf = this.buf.subarray(nl + 1);
        this.consumed += nl + 1;
        return s;
      }
      if (this.buf.length > maxLen) throw bad('malformed map at the start of the data');
      if (!(await this.fill())) throw bad('the data ends inside its map');
    }
  }

  async skip(n: number): Promise<void> {
    while (this.buf.length < n) if (!(await this.fill())) throw bad('the data ends inside its map');
    this.buf = this.buf.subarray(n);
    this.consumed += n;
  }

  /** The rest of the body, starting with what is buffered. */
  async *rest(): AsyncGenerator<Buffer> {
    if (this.buf.length) yield this.buf;
    this.buf = Buffer.alloc(0);
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }
}

/**
 * Writes a sparse entry's body into fd (a new, empty regular file): each region at its offset, the
 * holes never written, then the file cut to its real size. `stored` is the entry's data size as
 * the archive has it. Returns the file's size.
 */
export async function writeSparse(fd: number, info: SparseInfo, body: AsyncIterable<unknown>, stored: number): Promise<number> {
  const r = new BodyReader(body);
  let map = info.map;
  let dataSize = stored;
  if (!map) {
    const count = parseNumber(await r.line(), 'the region count');
    if (count > MAX_REGIONS) throw bad(`more than ${MAX_REGIONS} regions`);
    map = [];
    for (let i = 0; i < count; i++) map.push([parseNumber(await r.line(), 'a map offset'), parseNumber(await r.line(), 'a map length')]);
    await r.skip(padding(r.consumed));
    dataSize = stored - r.consumed;
    if (dataSize < 0) throw bad('the map is longer than the data');
  }
  checkMap(map, info.realSize, dataSize);
  let region = 0;
  let inRegion = 0;
  for await (const chunk of r.rest()) {
    let off = 0;
    while (off < chunk.length) {
      while (region < map.length && inRegion === map[region]![1]) {
        region++;
        inRegion = 0;
      }
      if (region >= map.length) throw bad('more data than the map describes');
      const [start, len] = map[region]!;
      const n = Math.min(len - inRegion, chunk.length - off);
      let done = 0;
      while (done < n) done += fs.writeSync(fd, chunk, off + done, n - done, start + inRegion + done);
      off += n;
      inRegion += n;
    }
  }
  fs.ftruncateSync(fd, info.realSize);
  return info.realSize;
}
