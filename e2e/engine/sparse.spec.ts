/**
 * Sparse files made by GNU tar --sparse (old GNU and PAX formats) through docker import, docker
 * load and docker cp (issue 10, item 9): the container sees the same size and bytes, and the
 * layer on disk keeps the holes. They used to be dropped (GNU) or unpacked as
 * GNUSparseFile.NNN/... of the wrong size (PAX) while the import reported success.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';
import { busyboxTar } from '../support/paths.js';
import { dockerArchive, rawRequest } from './image-archive-kit.js';

const SIZE = 48 * 1024 * 1024;

/** A 48 MiB file with a few short data runs (more than an old GNU header's four, so extension blocks follow). */
function writeSparse(file: string): string {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, SIZE);
    for (let i = 0; i < 9; i++) {
      const data = Buffer.from(`run ${i} `.repeat(512));
      fs.writeSync(fd, data, 0, data.length, i * 5 * 1024 * 1024 + 123);
    }
    fs.writeSync(fd, Buffer.from('last'), 0, 4, SIZE - 4);
  } finally {
    fs.closeSync(fd);
  }
  return createHash('md5').update(fs.readFileSync(file)).digest('hex');
}

test('docker import, load and cp restore sparse files from GNU tar (both formats) with their holes', async ({ berthd }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparse-e2e-'));
  const images: string[] = [];
  const name = uniq('sparse-cp');
  try {
    const rootfs = path.join(dir, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'data'), { recursive: true });
    execFileSync('tar', ['-xf', busyboxTar, '-C', rootfs]);
    const md5 = writeSparse(path.join(rootfs, 'data', 'disk.img'));
    const check = async (image: string, file = '/data/disk.img') => {
      const out = await berthd.dockerOk(['run', '--rm', '--network', 'none', image, 'sh', '-c', `stat -c %s ${file}; md5sum ${file} | cut -d" " -f1; ls /data`]);
      expect(out.split('\n').slice(0, 2)).toEqual([String(SIZE), md5]);
      expect(out).not.toContain('GNUSparseFile');
    };
    for (const format of ['gnu', 'posix']) {
      // docker import of a whole root filesystem made with tar --sparse.
      const tarFile = path.join(dir, `rootfs-${format}.tar`);
      execFileSync('tar', ['--sparse', `--format=${format}`, '-C', rootfs, '-cf', tarFile, '.']);
      expect(fs.statSync(tarFile).size).toBeLessThan(SIZE / 4);
      const imported = `${uniq(`sparse-import-${format}`)}:latest`;
      await berthd.dockerOk(['import', tarFile, imported]);
      images.push(imported);
      await check(imported);

      // docker load: busybox as one layer, the sparse file as another.
      const layer = path.join(dir, `layer-${format}.tar`);
      execFileSync('tar', ['--sparse', `--format=${format}`, '-C', rootfs, '-cf', layer, 'data']);
      const loaded = `${uniq(`sparse-load-${format}`)}:latest`;
      await berthd.dockerOk(['load'], { input: await dockerArchive([{ layers: [fs.readFileSync(busyboxTar), fs.readFileSync(layer)], tags: [loaded] }]) });
      images.push(loaded);
      await check(loaded);
    }
    // The layers on disk hold the file with its holes, not 48 MiB of zeros (two imports, two loads).
    const unpacked = execFileSync('find', [path.join(berthd.dataRoot, 'overlay', 'layers'), '-path', '*/diff/data/disk.img'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(unpacked.length).toBe(4);
    for (const f of unpacked) {
      expect(fs.statSync(f).size).toBe(SIZE);
      expect(fs.statSync(f).blocks * 512, f).toBeLessThan(SIZE / 8);
    }
    // docker cp: a sparse tar PUT into a running container.
    await berthd.dockerOk(['run', '-d', '--name', name, '--network', 'none', 'busybox', 'sleep', '120']);
    const cpTar = path.join(dir, 'cp.tar');
    execFileSync('tar', ['--sparse', '--format=posix', '-C', path.join(rootfs, 'data'), '-cf', cpTar, 'disk.img']);
    const put = await rawRequest(berthd.socket, 'PUT', `/containers/${name}/archive?path=/tmp`, fs.readFileSync(cpTar), { 'Content-Type': 'application/x-tar' });
    expect(put.status, put.body.toString()).toBe(200);
    const out = await berthd.dockerOk(['exec', name, 'sh', '-c', 'stat -c %s /tmp/disk.img; md5sum /tmp/disk.img | cut -d" " -f1']);
    expect(out.split('\n').slice(0, 2)).toEqual([String(SIZE), md5]);
  } finally {
    await berthd.docker(['rm', '-f', name]);
    if (images.length) await berthd.docker(['rmi', ...images]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a sparse entry in a format berthd does not know is refused with a clear error, nothing imported', async ({ berthd }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparse-bad-'));
  try {
    fs.mkdirSync(path.join(dir, 'src'));
    writeSparse(path.join(dir, 'src', 'disk.img'));
    const tarFile = path.join(dir, 'bad.tar');
    execFileSync('tar', ['--sparse', '--format=posix', '--sparse-version=1.0', '-C', path.join(dir, 'src'), '-cf', tarFile, 'disk.img']);
    const raw = fs.readFileSync(tarFile).toString('latin1').replace('GNU.sparse.major=1', 'GNU.sparse.major=9');
    fs.writeFileSync(tarFile, Buffer.from(raw, 'latin1'));
    const before = await berthd.dockerOk(['images', '-q']);
    const r = await berthd.docker(['import', tarFile, `${uniq('sparse-bad')}:latest`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('invalid sparse file in archive: unsupported sparse format 9.0');
    expect(await berthd.dockerOk(['images', '-q'])).toBe(before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
