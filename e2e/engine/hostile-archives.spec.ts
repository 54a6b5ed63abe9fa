/**
 * Hostile tars sent to `docker import` and `docker load`: entries that try
 * to leave the layer or the upload (../, absolute names, writes through
 * symlinks, hard links out, bad whiteouts) are refused with a 4xx and a
 * message; nothing is written outside the data root, nothing half-made stays
 * in the store, and the daemon keeps serving.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';
import { eventually, type Berthd } from '../support/berthd.js';
import { busyboxTar } from '../support/paths.js';
import { dockerArchive, layerTar, rawRequest, tarBuffer, type TarItem } from './image-archive-kit.js';

test.describe.configure({ mode: 'parallel' });

const up = '../'.repeat(40);

/**
 * The store's entries, once background deletions have finished: a container removed just before
 * (`run --rm`) leaves an `overlay/tmp/rm-<id>` that berthd deletes after answering.
 */
async function storeState(d: Berthd): Promise<string[]> {
  const trash = path.join(d.dataRoot, 'overlay', 'tmp');
  await eventually(() => !fs.existsSync(trash) || !fs.readdirSync(trash).some((n) => n.startsWith('rm-')), 10_000);
  const ls = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort().map((n) => `${p}/${n}`) : []);
  return [
    ...ls(path.join(d.dataRoot, 'overlay', 'layers')),
    ...ls(path.join(d.dataRoot, 'overlay', 'tmp')),
    ...ls(path.join(d.dataRoot, 'image', 'blobs', 'sha256')),
    ...ls(path.join(d.dataRoot, 'image', 'blobs', 'tmp')),
    ...ls(path.join(d.dataRoot, 'image', 'images')),
  ];
}

/** A directory outside the daemon's data root that hostile entries aim at. */
function makeSentinel(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sentinel-'));
  fs.writeFileSync(path.join(dir, 'secret'), 'untouched');
  return dir;
}

function expectUntouched(dir: string): void {
  expect(fs.readdirSync(dir)).toEqual(['secret']);
  expect(fs.readFileSync(path.join(dir, 'secret'), 'utf8')).toBe('untouched');
  expect(fs.lstatSync(path.join(dir, 'secret')).nlink).toBe(1);
}

function hostileLayers(sentinel: string): Array<[string, TarItem[], string]> {
  const rel = sentinel.slice(1); // "tmp/berth-sentinel-x"
  return [
    ['../ in a name', [{ header: { name: `${up}${rel}/pwned` }, body: 'x' }], 'path escapes the layer root'],
    ['../ inside a name', [{ header: { name: `a/b/${up}${rel}/pwned` }, body: 'x' }], 'path escapes the layer root'],
    ['an absolute name', [{ header: { name: `${sentinel}/pwned` }, body: 'x' }], 'absolute paths are not allowed'],
    ['an absolute directory', [{ header: { name: `${sentinel}/pwned/`, type: 'directory' } }], 'absolute paths are not allowed'],
    [
      'a symlink to an absolute dir, then a write through it',
      [
        { header: { name: 'evil', type: 'symlink', linkname: sentinel } },
        { header: { name: 'evil/pwned' }, body: 'x' },
      ],
      'is a symbolic link',
    ],
    [
      'a relative symlink out, then a write through it',
      [
        { header: { name: 'evil', type: 'symlink', linkname: `${up}${rel}` } },
        { header: { name: 'evil/secret' }, body: 'overwritten' },
      ],
      'is a symbolic link',
    ],
    [
      'a symlink, then a whiteout through it',
      [
        { header: { name: 'evil', type: 'symlink', linkname: sentinel } },
        { header: { name: 'evil/.wh.secret' }, body: '' },
      ],
      'is a symbolic link',
    ],
    ['a hard link to ../', [{ header: { name: 'h', type: 'link', linkname: `${up}${rel}/secret` } }], 'path escapes the layer root'],
    ['a hard link to an absolute path', [{ header: { name: 'h', type: 'link', linkname: `${sentinel}/secret` } }], 'absolute paths are not allowed'],
    [
      'a hard link to a symlink',
      [
        { header: { name: 's', type: 'symlink', linkname: `${sentinel}/secret` } },
        { header: { name: 'h', type: 'link', linkname: 's' } },
      ],
      'hard link to a symbolic link',
    ],
    [
      'a hard link through a symlinked dir',
      [
        { header: { name: 'd', type: 'symlink', linkname: sentinel } },
        { header: { name: 'h', type: 'link', linkname: 'd/secret' } },
      ],
      'is a symbolic link',
    ],
    ['the whiteout ".wh."', [{ header: { name: 'dir/.wh.' }, body: '' }], 'invalid whiteout'],
    ['the whiteout ".wh.."', [{ header: { name: '.wh..' }, body: '' }], 'invalid whiteout'],
    ['the whiteout ".wh..."', [{ header: { name: '.wh...' }, body: '' }], 'invalid whiteout'],
    ['a whiteout climbing out', [{ header: { name: `.wh..${up}${rel}/secret` }, body: '' }], 'path escapes the layer root'],
    ['an opaque whiteout at the root', [{ header: { name: '.wh..wh..opq' }, body: '' }], 'opaque whiteout at the layer root'],
  ];
}

test('docker import: hostile layer tars are 400s, nothing lands outside, the daemon keeps serving', async ({ berthd }) => {
  const sentinel = makeSentinel();
  try {
    const before = await storeState(berthd);
    const imagesBefore = await berthd.dockerOk(['images', '-aq', '--no-trunc']);
    for (const [what, items, message] of hostileLayers(sentinel)) {
      const tarball = await tarBuffer([{ header: { name: 'ok.txt' }, body: 'fine' }, ...items]);
      const r = await berthd.docker(['import', '-', uniq('hostile')], { input: tarball });
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toContain('invalid tar entry');
      expect(r.stderr, what).toContain(message);
      const api = await rawRequest(berthd.socket, 'POST', `/images/create?fromSrc=-&repo=${uniq('hostile')}`, tarball, { 'Content-Type': 'text/plain' });
      expect(api.status, what).toBe(400);
      expect(JSON.parse(api.body.toString()).message, what).toContain(message);
      expectUntouched(sentinel);
    }
    expect(await storeState(berthd)).toEqual(before);
    expect(await berthd.dockerOk(['images', '-aq', '--no-trunc'])).toBe(imagesBefore);
    expect(await berthd.dockerOk(['run', '--rm', 'busybox', 'echo', 'still serving'])).toBe('still serving\n');
  } finally {
    fs.rmSync(sentinel, { recursive: true, force: true });
  }
});

test('docker load: hostile layers inside an archive fail the load and leave no half image', async ({ berthd }) => {
  const sentinel = makeSentinel();
  try {
    const before = await storeState(berthd);
    const imagesBefore = await berthd.dockerOk(['images', '-aq', '--no-trunc']);
    const base = fs.readFileSync(busyboxTar);
    for (const [what, items, message] of hostileLayers(sentinel)) {
      // A good layer first: it is registered, then removed again when the hostile one fails.
      const archive = await dockerArchive([{ layers: [base, await layerTar({ [`${uniq('good')}.txt`]: 'good' }), await tarBuffer(items)], tags: [`${uniq('hostile-load')}:1`] }]);
      const r = await berthd.docker(['load'], { input: archive });
      expect(r.code, what).toBe(1);
      expect(r.stderr, what).toContain('invalid archive: layer 3 of image');
      expect(r.stderr, what).toContain(message);
      expectUntouched(sentinel);
    }
    expect(await storeState(berthd)).toEqual(before);
    expect(await berthd.dockerOk(['images', '-aq', '--no-trunc'])).toBe(imagesBefore);
  } finally {
    fs.rmSync(sentinel, { recursive: true, force: true });
  }
});

test('docker load: hostile entries in the archive itself never reach outside the upload', async ({ berthd }) => {
  const sentinel = makeSentinel();
  const rel = sentinel.slice(1);
  try {
    const before = await storeState(berthd);
    const layer = await layerTar({ 'x.txt': 'x' });
    const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const cases: Array<[string, TarItem[], string]> = [
      ['../ in an archive entry', [{ header: { name: `${up}${rel}/pwned` }, body: 'x' }], 'path escapes the layer root'],
      ['an absolute archive entry', [{ header: { name: `${sentinel}/pwned` }, body: 'x' }], 'absolute paths are not allowed'],
      ['a hard link out of the archive', [{ header: { name: 'h', type: 'link', linkname: `${up}etc/passwd` } }], 'path escapes the layer root'],
      ['a hard link to a host file', [{ header: { name: 'h', type: 'link', linkname: '/etc/passwd' } }], 'absolute paths are not allowed'],
      ['manifest.json as a symlink to a host file', [{ header: { name: 'manifest.json', type: 'symlink', linkname: '/etc/passwd' } }], 'does not contain a manifest.json'],
      [
        'a config path climbing out',
        [{ header: { name: 'manifest.json' }, body: JSON.stringify([{ Config: `${up}etc/passwd`, RepoTags: [], Layers: [] }]) }],
        'is missing',
      ],
      [
        'a config through a symlink to a host file',
        [
          { header: { name: 'c.json', type: 'symlink', linkname: `${sentinel}/secret` } },
          { header: { name: 'manifest.json' }, body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: [] }]) },
        ],
        'is missing',
      ],
      [
        'a layer through a symlink to a host file',
        [
          { header: { name: 'c.json' }, body: cfg.replace('"diff_ids":[]', `"diff_ids":["sha256:${'0'.repeat(64)}"]`) },
          { header: { name: 'dir', type: 'symlink', linkname: '/' } },
          { header: { name: 'manifest.json' }, body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['dir/etc/passwd'] }]) },
        ],
        'is missing',
      ],
      [
        'a symlink entry, then a write through it',
        [
          { header: { name: 'evil', type: 'symlink', linkname: sentinel } },
          { header: { name: 'evil/pwned' }, body: 'x' },
          { header: { name: 'l.tar' }, body: layer },
        ],
        'does not contain a manifest.json',
      ],
    ];
    for (const [what, items, message] of cases) {
      const r = await rawRequest(berthd.socket, 'POST', '/images/load?quiet=1', await tarBuffer(items));
      // As dockerd: 200, the failure in the JSON stream.
      expect(r.status, what).toBe(200);
      expect(JSON.parse(r.body.toString().trim().split('\n').pop()!).error, what).toContain(message);
      expectUntouched(sentinel);
    }
    expect(fs.existsSync('/pwned')).toBe(false);
    expect(await storeState(berthd)).toEqual(before);
    expect((await berthd.dockerOk(['version', '--format', '{{.Server.Os}}'])).trim()).toBe('linux');
  } finally {
    fs.rmSync(sentinel, { recursive: true, force: true });
  }
});

test('a symlink in one layer and a write "through" it in the next stay inside the image', async ({ berthd }) => {
  const sentinel = makeSentinel();
  try {
    const name = `${uniq('split')}:1`;
    const l1 = await tarBuffer([{ header: { name: 'evil', type: 'symlink', linkname: sentinel } }]);
    const l2 = await tarBuffer([{ header: { name: 'evil/pwned' }, body: 'inside the image' }]);
    await berthd.dockerOk(['load'], { input: await dockerArchive([{ layers: [fs.readFileSync(busyboxTar), l1, l2], tags: [name] }]) });
    expectUntouched(sentinel);
    // The upper layer's real directory hides the lower symlink inside the container.
    expect(await berthd.dockerOk(['run', '--rm', name, 'cat', '/evil/pwned'])).toBe('inside the image');
    expectUntouched(sentinel);
    await berthd.dockerOk(['rmi', name]);
  } finally {
    fs.rmSync(sentinel, { recursive: true, force: true });
  }
});
