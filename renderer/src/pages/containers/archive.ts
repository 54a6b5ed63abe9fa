/**
 * Files to and from the archive API: downloads (folders as .tar, single
 * files unpacked from their one-entry tar), uploads in acknowledged chunks,
 * and the small conversions between bytes, base64 and text.
 */
import type { FileTarget } from '../../../../electron/contract/api.js';
import { UPLOAD_CHUNK_BYTES, UPLOAD_WINDOW_BYTES } from '../../../../electron/contract/api.js';
import { api } from '../../api/client.js';
import { downloadBlob } from '../../components/common.js';
import { toast } from '../../stores/ui.js';

export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function encodeBase64(bytes: Uint8Array): string {
  let bin = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) bin += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(bin);
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

/** Downloads a path of a container or volume: a file as itself, a folder (or a whole volume) as a .tar. */
export function downloadFiles(engineId: string, target: FileTarget, path: string, isDir: boolean, saveAs?: string): void {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let name = path.split('/').filter(Boolean).pop() ?? (target.kind === 'volume' ? target.name : 'root');
  api().open(
    'files.archive',
    { engineId, target, path },
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
          if (file) return downloadBlob(saveAs ?? name, [file]);
        }
        downloadBlob(saveAs ?? `${name}.tar`, parts, 'application/x-tar');
      },
    },
  );
}

/**
 * Sends a file (or a tar to unpack, with kind "tar") into a folder, in chunks, keeping at most
 * UPLOAD_WINDOW_BYTES unacknowledged. Resolves when the engine has written it.
 */
export function uploadBlob(engineId: string, target: FileTarget, dir: string, blob: Blob, upload: { kind: 'file'; name: string } | { kind: 'tar' }, onProgress?: (sent: number, total: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let offset = 0;
    let acked = 0;
    let reading = false;
    let ended = false;
    let failed = false;
    const total = blob.size;
    const handle = api().open(
      'files.upload',
      { engineId, target, dir, upload: upload.kind === 'file' ? { kind: 'file', name: upload.name, size: total } : { kind: 'tar' } },
      {
        onEvent: (e) => {
          if (e.type === 'ack') {
            acked = e.bytes;
            onProgress?.(acked, total);
            void pump();
          } else resolve();
        },
        onEnd: (err) => {
          if (err) {
            failed = true;
            reject(err);
          } else resolve();
        },
      },
    );
    const pump = async () => {
      if (reading || failed) return;
      reading = true;
      try {
        while (!failed && offset < total && offset - acked < UPLOAD_WINDOW_BYTES) {
          const chunk = new Uint8Array(await blob.slice(offset, offset + UPLOAD_CHUNK_BYTES).arrayBuffer());
          offset += chunk.length;
          handle.send({ type: 'chunk', data: encodeBase64(chunk) });
        }
        if (!failed && offset >= total && !ended) {
          ended = true;
          handle.send({ type: 'end' });
        }
      } catch (err) {
        failed = true;
        handle.close();
        reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        reading = false;
      }
    };
    void pump();
  });
}

export function textToBase64(text: string): string {
  return encodeBase64(new TextEncoder().encode(text));
}

/** The file's text, or undefined when it is not text (NUL bytes or invalid UTF-8). */
export function base64ToText(b64: string): string | undefined {
  const bytes = decodeBase64(b64);
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
