import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { withoutTopFolder } from './files.js';
import { prefixFor, serviceLabel } from '../streams/project-logs.js';

function pack(entries: Array<{ name: string; type?: 'file' | 'directory'; body?: string }>): Readable {
  const p = tar.pack();
  for (const e of entries) p.entry({ name: e.name, type: e.type ?? 'file', mode: e.type === 'directory' ? 0o755 : 0o640, uid: 1000 }, e.body ?? '');
  p.finalize();
  const out = new PassThrough();
  p.pipe(out);
  return out;
}

function read(stream: Readable): Promise<Array<{ name: string; mode: number; uid: number; body: string }>> {
  return new Promise((resolve, reject) => {
    const x = tar.extract();
    const out: Array<{ name: string; mode: number; uid: number; body: string }> = [];
    x.on('entry', (h, body, next) => {
      let text = '';
      body.on('data', (c: unknown) => (text += String(c)));
      body.on('end', () => {
        out.push({ name: h.name, mode: h.mode ?? 0, uid: h.uid ?? 0, body: text });
        next();
      });
    });
    x.on('finish', () => resolve(out));
    x.on('error', reject);
    stream.pipe(x);
  });
}

describe("a whole volume's export", () => {
  it("has the volume's content at the top of the tar (what Import takes back), modes and owners kept", async () => {
    const out = await read(withoutTopFolder(pack([{ name: 'berth-volume/', type: 'directory' }, { name: 'berth-volume/a.txt', body: 'alpha' }, { name: 'berth-volume/d/', type: 'directory' }, { name: 'berth-volume/d/b.txt', body: 'beta' }]), '/berth-volume'));
    expect(out.map((e) => [e.name, e.body])).toEqual([
      ['a.txt', 'alpha'],
      ['d/', ''],
      ['d/b.txt', 'beta'],
    ]);
    expect(out[0]).toMatchObject({ mode: 0o640, uid: 1000 });
  });
});

describe('merged project logs', () => {
  it('label each line with the compose service and its number, in a padded, coloured column', () => {
    expect(serviceLabel({ Id: 'x', Names: ['/shop-web-1'], Labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.container-number': '1' } })).toBe('web-1');
    expect(serviceLabel({ Id: 'abcdef1234567890', Names: ['/loose'], Labels: {} })).toBe('loose');
    expect(prefixFor('db-1', 6, 36, false)).toBe('db-1    | ');
    expect(prefixFor('db-1', 6, 36, true)).toBe('\x1b[36mdb-1    |\x1b[0m ');
  });
});
