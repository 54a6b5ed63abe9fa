/**
 * Host folders in the Berth VM (issue 12): the same file work on the host's disk, on the VM's own
 * disk (a container's root filesystem: overlay on the data disk) and on a shared folder (a bind
 * mount of a host folder, over 9p or virtiofs: the column says which), side by side: untar 10,000 small files, a stat walk of them (`ls -lR`,
 * what `git status` does: one lstat per file), a sequential write and read of a large file.
 *
  *   DOCKER_HOST=unix://<berth vm socket> npx tsx bench/vm-files.ts --shared <folder inside a shared folder> \
 *     [--image busybox-image] [--files 10000] [--mb 256]
 *
 * The VM must run (`berth vm start`) with the folder inside one of vm.sharedFolders. Times inside
 * the VM are taken by the container itself (/proc/uptime, 10 ms), so container start-up is not
 * counted. Caches: nothing is dropped on the host (the machine is shared); in the VM the page
 * cache is dropped before each read (a privileged container), so VM reads come from the disk or
 * through the share (which may hit the host's page cache, as a desktop's would).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { shared: { type: 'string' }, image: { type: 'string', default: 'busybox:berth-bench' }, files: { type: 'string', default: '10000' }, mb: { type: 'string', default: '256' } },
});
if (!values.shared) throw new Error('--shared <folder inside a shared folder> is required');
const FILES = Number(values.files);
const MB = Number(values.mb);
const shared = path.resolve(values.shared);
fs.mkdirSync(shared, { recursive: true });

// The tarball: FILES files of 1 KiB in 100 folders, made on the host once.
const src = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-files-src-'));
for (let i = 0; i < FILES; i++) {
  const d = path.join(src, 'tree', `d${i % 100}`);
  if (i < 100) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, `f${i}.txt`), `${i}\n`.padEnd(1024, 'x'));
}
const tarball = path.join(shared, 'files.tar');
execFileSync('tar', ['-cf', tarball, '-C', src, 'tree']);
fs.rmSync(src, { recursive: true, force: true });

/** The work, timed step by step; `W` is the folder worked in, `T` the tarball, `DROP` drops caches (or not). */
const script = (dir: string, tar: string, drop: string) => `
set -e
W=${dir}; T=${tar}
now() { cut -d' ' -f1 /proc/uptime; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
rm -rf "$W"; mkdir -p "$W"
a=$(now); tar -xf "$T" -C "$W"; sync; b=$(now); echo "untar $(ms $a $b)"
${drop}
a=$(now); ls -lR "$W/tree" > /dev/null; b=$(now); echo "stat $(ms $a $b)"
a=$(now); ls -lR "$W/tree" > /dev/null; b=$(now); echo "stat-warm $(ms $a $b)"
a=$(now); dd if=/dev/zero of="$W/big" bs=1M count=${MB} conv=fsync 2>/dev/null; b=$(now); echo "write $(ms $a $b)"
${drop}
a=$(now); dd if="$W/big" of=/dev/null bs=1M 2>/dev/null; b=$(now); echo "read $(ms $a $b)"
rm -rf "$W"
`;

function parse(out: string): Record<string, number> {
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')).filter((p) => p.length === 2).map(([k, v]) => [k!, Number(v)]));
}
const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 3_600_000 });
const DROP = 'sync; echo 3 > /proc/sys/vm/drop_caches';

const results: Record<string, Record<string, number>> = {};
results.host = parse(execFileSync('sh', ['-c', script(path.join(shared, 'host-work'), tarball, ':')], { encoding: 'utf8' }));
results['VM disk'] = parse(docker(['run', '--rm', '--privileged', '-v', `${shared}:/in:ro`, values.image, 'sh', '-c', `cp /in/files.tar /files.tar && ${script('/work', '/files.tar', DROP)}`]));
// The transport of the bind mount, as the container's mount table says (9p or virtiofs).
const transport = docker(['run', '--rm', '-v', `${shared}:${shared}`, values.image, 'awk', `$2 == "${shared}" { print $3 }`, '/proc/mounts']).trim() || 'share';
const SHARE = `${transport} share`;
results[SHARE] = parse(docker(['run', '--rm', '--privileged', '-v', `${shared}:${shared}`, values.image, 'sh', '-c', script(path.join(shared, 'vm-work'), tarball, DROP)]));
fs.rmSync(tarball, { force: true });

const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);
const rows: Array<[string, string]> = [
  ['untar', `untar ${FILES} files (1 KiB)`],
  ['stat', `stat walk (ls -lR), cold`],
  ['stat-warm', `stat walk again`],
  ['write', `write ${MB} MiB (fsync)`],
  ['read', `read ${MB} MiB`],
];
const cols = Object.keys(results);
console.log(`| | ${cols.join(' | ')} | ${transport} ÷ host | ${transport} ÷ VM disk |`);
console.log(`|---|${cols.map(() => '---').join('|')}|---|---|`);
for (const [k, label] of rows) {
  const h = results.host![k]!;
  const v = results['VM disk']![k]!;
  const p = results[SHARE]![k]!;
  console.log(`| ${label} | ${cols.map((c) => fmt(results[c]![k]!)).join(' | ')} | ${(p / Math.max(h, 1)).toFixed(1)}× | ${(p / Math.max(v, 1)).toFixed(1)}× |`);
}
console.log(`\n${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'} · load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
