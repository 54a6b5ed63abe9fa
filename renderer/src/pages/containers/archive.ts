/** Downloads from the archive API: folders as .tar, single files unpacked from their one-entry tar. */
import { api } from '../../api/client.js';
import { downloadBlob } from '../../components/common.js';
import { toast } from '../../stores/ui.js';

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function octal(buf: Uint8Array, start: number, len: number): number {
  let s = '';
  for (let i = start; i < start + len && buf[i] !== 0; i++) s += String.fromCharCode(buf[i]!);
  return parseInt(s.trim() || '0', 8);
}

/** The content of the first regular file in a tar (skipping pax/GNU long-name headers). */
export function firstFileInTar(tar: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> | undefined {
  let off = 0;
  while (off + 512 <= tar.length) {
    const size = octal(tar, off + 124, 12);
    const type = String.fromCharCode(tar[off + 156] ?? 0);
    if (tar[off] === 0) return undefined;
    const data = off + 512;
    if (type === '0' || type === '\0') return tar.slice(data, data + size);
    off = data + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

export function downloadFromContainer(engineId: string, containerId: string, path: string, isDir: boolean): void {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let name = path.split('/').filter(Boolean).pop() ?? 'root';
  api().open(
    'containers.archive',
    { engineId, id: containerId, path },
    {
      onEvent: (e) => {
        if (e.type === 'stat') name = e.name || name;
        else parts.push(decodeBase64(e.data));
      },
      onEnd: (err) => {
        if (err) {
          toast('error', `Could not download ${path}: ${err.message}`);
          return;
        }
        if (!isDir) {
          const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let o = 0;
          for (const p of parts) {
            all.set(p, o);
            o += p.length;
          }
          const file = firstFileInTar(all);
          if (file) return downloadBlob(name, [file]);
        }
        downloadBlob(`${name}.tar`, parts, 'application/x-tar');
      },
    },
  );
}
