/**
 * A small tar writer for the browser: an uploaded folder becomes the build
 * context (ustar, a PAX path record for long names; files 0:0 as the docker
 * CLI sends them).
 */
export interface TarFile {
  path: string;
  data: Uint8Array;
  mode?: number;
  /** Seconds since the epoch. */
  mtime?: number;
}

const enc = new TextEncoder();

function header(name: string, size: number, mode: number, mtime: number, type: string): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number, len: number) => h.set(enc.encode(s).subarray(0, len), off);
  const oct = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';
  put(name, 0, 100);
  put(oct(mode & 0o7777, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(Math.max(0, Math.floor(mtime)), 12), 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

function pad(n: number): Uint8Array {
  return new Uint8Array((512 - (n % 512)) % 512);
}

function paxPath(path: string): Uint8Array {
  const body = ` path=${path}\n`;
  let len = enc.encode(body).length + 1;
  while (String(len).length + enc.encode(body).length !== len) len = String(len).length + enc.encode(body).length;
  return enc.encode(`${len}${body}`);
}

export function makeTar(files: readonly TarFile[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const now = Date.now() / 1000;
  const dirs = new Set<string>();
  for (const f of files) {
    const segs = f.path.split('/');
    for (let i = 1; i < segs.length; i++) {
      const d = segs.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      parts.push(header(`${d}/`.slice(0, 100), 0, 0o755, now, '5'));
    }
    const name = enc.encode(f.path).length > 100 ? (() => {
      const pax = paxPath(f.path);
      parts.push(header('PaxHeader', pax.length, 0o644, now, 'x'), pax, pad(pax.length));
      return f.path.slice(-100);
    })() : f.path;
    parts.push(header(name, f.data.length, f.mode ?? 0o644, f.mtime ?? now, '0'), f.data, pad(f.data.length));
  }
  parts.push(new Uint8Array(1024));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Base64 of a byte range (for the stream's chunk messages). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
