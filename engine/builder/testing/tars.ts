/**
 * Tar archives for unit tests, written by hand so that tests can also make the
 * hostile ones real tools refuse to write (names climbing out, wrong checksums,
 * oversized extension headers, duplicate entries).
 */
export interface RawEntry {
  name: string;
  /** '0' file, '1' hard link, '2' symlink, '5' dir, 'x' PAX, 'L' GNU long name, ... */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  content?: Buffer | string;
  linkname?: string;
  /** Declared size when it should differ from the content's. */
  size?: number;
  badChecksum?: boolean;
  pax?: Record<string, string>;
}

const oct = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';

export function header(e: RawEntry, size: number): Buffer {
  const b = Buffer.alloc(512);
  b.write(e.name.slice(0, 100), 0, 'utf8');
  b.write(oct(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 8), 100);
  b.write(oct(e.uid ?? 0, 8), 108);
  b.write(oct(e.gid ?? 0, 8), 116);
  b.write(oct(size, 12), 124);
  b.write(oct(e.mtime ?? 1700000000, 12), 136);
  b.write('        ', 148);
  b.write(e.type ?? '0', 156);
  b.write(e.linkname ?? '', 157);
  b.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const c of b) sum += c;
  if (e.badChecksum) sum += 1;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return b;
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

function paxData(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
    parts.push(Buffer.from(`${len}${body}`));
  }
  return Buffer.concat(parts);
}

export function makeTar(entries: RawEntry[], opts: { end?: boolean } = {}): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const data = paxData(e.pax);
      out.push(header({ name: 'PaxHeader', type: 'x' }, data.length), data, pad(data.length));
    }
    const content = Buffer.from(e.content ?? '');
    const size = e.size ?? content.length;
    out.push(header(e, size), content, pad(content.length));
  }
  if (opts.end !== false) out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}
