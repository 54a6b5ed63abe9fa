/**
 * Host folders in the Berth VM, end to end with real QEMU (tcg here) and the stock docker CLI
 * through the VM's host socket: a temporary host folder shared through BERTH_VM_SHARED_FOLDERS
 * (the vm.sharedFolders setting's override) and mounted in the guest at the same path: the
 * read-write one over virtiofs (this host runs the VM as root and has QEMU's virtiofsd), the
 * read-only one over 9p. Bind mounts (-v, --mount, :ro) written from both sides, ownership, the
 * "Mounts denied" message for a path outside every shared folder, an inotify watcher in a
 * container woken by a host edit, the data disk's qcow2 file shrinking after `docker system prune
 * -a`; then a restart with vm.fileSharing 9p (BERTH_VM_FILE_SHARING) runs the read-write flows
 * again over 9p, the transport of macOS hosts and unprivileged Linux ones. Serial.
 */
import { execFile, spawn, type ChildProcess, type ExecFileException } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { busyboxTar, distDir } from '../support/paths.js';
import { ensureVmImage, vmImagesDir, vmUnavailable } from '../support/vm-image.js';

test.describe.configure({ mode: 'serial' });

const berthCli = path.join(distDir, 'electron', 'cli', 'berth.js');
const IMAGE = 'berth-folders-busybox:1';
let home: string;
let shared: string;
let readOnly: string;
let outside: string;
let env: NodeJS.ProcessEnv;
let dockerSocket: string;
let runDir: string;
const pids: { qemu?: number; hostAgent?: number } = {};
const watchers: ChildProcess[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], o: { timeoutMs?: number; extraEnv?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...env, ...(o.extraEnv ?? {}) }, timeout: o.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, ...(o.cwd ? { cwd: o.cwd } : {}) }, (err: ExecFileException | null, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
const berth = (args: string[], timeoutMs?: number) => run(process.execPath, [berthCli, ...args], timeoutMs ? { timeoutMs } : {});
const dockerEnv = () => ({ DOCKER_HOST: `unix://${dockerSocket}` });
const docker = (args: string[], timeoutMs?: number) => run('docker', args, { timeoutMs: timeoutMs ?? 180_000, extraEnv: dockerEnv() });

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function readPid(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
/** Bytes the qcow2 file takes on the host disk (allocated blocks, not its apparent size). */
const allocated = (f: string) => fs.statSync(f).blocks * 512;

test.beforeAll(async () => {
  const why = await vmUnavailable('amd64');
  if (why) {
    console.log(`[vm] e2e/vm is skipped on this machine: ${why} (scripts/install-system-deps.sh installs it)`);
    test.skip(true, why);
  }
  home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'bvmf-')));
  shared = path.join(home, 'shared');
  readOnly = path.join(home, 'readonly');
  outside = path.join(home, 'outside');
  for (const d of [shared, readOnly, outside]) fs.mkdirSync(d);
  env = {
    ...process.env,
    BERTH_HOME: home,
    BERTH_VM_IMAGES: vmImagesDir,
    DOCKER_CONFIG: path.join(home, 'docker'),
    BERTH_VM_CPUS: '2',
    BERTH_VM_MEMORY_MIB: '1024',
    BERTH_VM_DISK_GIB: '8',
    BERTH_VM_ARCH: 'amd64',
    BERTH_VM_CONTEXT: '',
    BERTH_VM_SHARED_FOLDERS: JSON.stringify([{ path: shared }, { path: readOnly, readOnly: true }]),
  };
  runDir = path.join(home, 'run', 'vm-default');
  dockerSocket = path.join(runDir, 'docker.sock');
});

// A failed test prints the end of the VM's console (a guest kernel oops or panic shows there).
test.afterEach(async ({}, info) => {
  if (info.status === info.expectedStatus || !home) return;
  const consoleLog = await berth(['vm', 'logs', '--tail', '60']);
  console.log(`[vm] after "${info.title}" failed, the VM console:\n${consoleLog.stdout}`);
});

test.afterAll(async () => {
  for (const w of watchers) w.kill('SIGKILL');
  if (!home) return;
  if (alive(pids.hostAgent) || alive(pids.qemu)) await berth(['vm', 'stop'], 120_000);
  for (const pid of [pids.qemu, pids.hostAgent]) if (alive(pid)) process.kill(pid!, 'SIGKILL');
  fs.rmSync(home, { recursive: true, force: true });
});

/** The virtiofsd processes serving `dir` (QEMU's C one forks: a parent and its sandboxed child). */
function virtiofsdFor(dir: string): number[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const argv = fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
      return /virtiofsd$/.test(argv[0] ?? '') && argv.includes(`source=${dir}`);
    } catch {
      return false;
    }
  }).map(Number);
}

test('the VM boots with the read-write folder on virtiofs and the read-only one on 9p, mounted at the same path', async () => {
  test.setTimeout(50 * 60_000);
  await ensureVmImage('amd64', (m) => console.log(`[vm] ${m}`));
  const start = await berth(['vm', 'start'], 8 * 60_000);
  console.log(`[vm] ${start.stdout.trim()}`);
  if (start.code !== 0) console.log(`[vm] console:\n${(await berth(['vm', 'logs', '--tail', '60'])).stdout}\n[vm] host agent:\n${(await berth(['vm', 'logs', '--host', '--tail', '30'])).stdout}`);
  expect(start.code, `${start.stdout}\n${start.stderr}`).toBe(0);
  pids.qemu = readPid(path.join(runDir, 'qemu.pid'));
  pids.hostAgent = readPid(path.join(runDir, 'host-agent.pid'));
  const cmdline = fs.readFileSync(`/proc/${pids.qemu}/cmdline`, 'utf8').split('\0');
  expect(cmdline).toContain(`local,id=fs0,path=${readOnly},security_model=none,multidevs=remap,readonly=on`);
  expect(cmdline).toContain(`socket,id=fs1,path=${path.join(runDir, 'virtiofs-1.sock')}`);
  expect(cmdline).toContain('vhost-user-fs-pci,chardev=fs1,tag=berth1,queue-size=1024');
  expect(cmdline).toContain('memory-backend-memfd,id=mem,size=1024M,share=on');
  expect(virtiofsdFor(shared).length).toBeGreaterThan(0);
  const status = JSON.parse((await berth(['vm', 'status', '--json'])).stdout) as { resources: { sharedFolders: unknown }; fileSharing: { why: string; shares: unknown } };
  expect(status.resources.sharedFolders).toEqual([
    { path: readOnly, readOnly: true },
    { path: shared, readOnly: false },
  ]);
  expect(status.fileSharing.shares).toEqual([
    { path: readOnly, readOnly: true, transport: '9p' },
    { path: shared, readOnly: false, transport: 'virtiofs' },
  ]);
  expect(status.fileSharing.why).toMatch(/^virtiofs \(.*virtiofsd.*as root\) for read-write folders; 9p for read-only ones/);
  const text = (await berth(['vm', 'status'])).stdout;
  expect(text).toContain(`shared folders: ${readOnly} (9p, read-only), ${shared} (virtiofs)`);
  // The guest mounted each with its transport.
  expect((await berth(['vm', 'logs', '--tail', '400'])).stdout).toContain(`shared folders mounted (virtiofs: ${shared}; 9p, cache=mmap: ${readOnly})`);
  const imp = await docker(['import', busyboxTar, IMAGE], 300_000);
  expect(imp.code, imp.stderr).toBe(0);
});

async function writtenFromBothSides(label: string): Promise<void> {
  const proj = path.join(shared, `proj-${label}`);
  fs.mkdirSync(proj);
  fs.writeFileSync(path.join(proj, 'from-host.txt'), 'hello from the host\n');
  const r = await docker(['run', '--rm', '-v', `${proj}:/app`, IMAGE, 'sh', '-c', 'cat /app/from-host.txt && echo "hello from the container" > /app/from-ctr.txt && mkdir -p /app/sub/deep && echo x > /app/sub/deep/f'], 300_000);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('hello from the host\n');
  expect(fs.readFileSync(path.join(proj, 'from-ctr.txt'), 'utf8')).toBe('hello from the container\n');
  const st = fs.statSync(path.join(proj, 'from-ctr.txt'));
  // QEMU creates the file as itself: the host user (root on this machine, the desktop user elsewhere).
  expect(st.uid).toBe(process.getuid!());
  expect(fs.statSync(path.join(proj, 'sub', 'deep')).isDirectory()).toBe(true);

  // --mount type=bind, and a host change seen by a container started before it.
  const d = await docker(['run', '-d', '--name', `folders-reader-${label}`, '--mount', `type=bind,source=${proj},target=/app`, IMAGE, 'sleep', '600'], 300_000);
  expect(d.code, d.stderr).toBe(0);
  fs.writeFileSync(path.join(proj, 'from-host.txt'), 'edited on the host\n');
  fs.writeFileSync(path.join(proj, 'new-on-host.txt'), 'new\n');
  // 9p caches no metadata: a host change is seen at once. virtiofs (cache=auto) keeps entries and
  // attributes 1 s: seen within it.
  const seen = async <T>(probe: () => Promise<T>, want: T) => {
    if (label === '9p') expect(await probe()).toBe(want);
    else await expect.poll(probe, { timeout: 3000, intervals: [250] }).toBe(want);
  };
  await seen(async () => {
    const cat = await docker(['exec', `folders-reader-${label}`, 'sh', '-c', 'cat /app/from-host.txt /app/new-on-host.txt; stat -c %u /app/from-ctr.txt']);
    return `${cat.code} ${cat.stdout}`;
  }, `0 edited on the host\nnew\n${process.getuid!()}\n`);
  // A host delete is seen too.
  fs.rmSync(path.join(proj, 'new-on-host.txt'));
  await seen(async () => (await docker(['exec', `folders-reader-${label}`, 'test', '-e', '/app/new-on-host.txt'])).code, 1);

  // -v of a missing folder inside a share creates it on the host, as dockerd does on its host.
  const made = path.join(shared, `made-by-v-${label}`);
  expect((await docker(['run', '--rm', '-v', `${made}:/m`, IMAGE, 'touch', '/m/ok'], 300_000)).code).toBe(0);
  expect(fs.existsSync(path.join(made, 'ok'))).toBe(true);
  // A file a container user other than root creates keeps that owner on the host (the daemon acts as the caller).
  fs.mkdirSync(path.join(proj, 'u'));
  fs.chmodSync(path.join(proj, 'u'), 0o777);
  const u = await docker(['run', '--rm', '-u', '1234:1234', '-v', `${proj}:/app`, IMAGE, 'sh', '-c', 'echo u > /app/u/f'], 300_000);
  expect(u.code, u.stderr).toBe(0);
  expect(fs.statSync(path.join(proj, 'u', 'f')).uid).toBe(process.getuid!() === 0 ? 1234 : process.getuid!());
  await docker(['rm', '-f', `folders-reader-${label}`]);
}

test('a bind mount (-v and --mount) is written from both sides; container files belong to the host user', async () => {
  test.setTimeout(10 * 60_000);
  await writtenFromBothSides('virtiofs');
});

test(':ro and a read-only shared folder refuse writes; reads work', async () => {
  test.setTimeout(10 * 60_000);
  fs.writeFileSync(path.join(shared, 'ro-src.txt'), 'ro\n');
  const ro = await docker(['run', '--rm', '-v', `${shared}:/data:ro`, IMAGE, 'sh', '-c', 'cat /data/ro-src.txt; echo x > /data/nope'], 300_000);
  expect(ro.code).not.toBe(0);
  expect(ro.stdout).toBe('ro\n');
  expect(ro.stderr).toMatch(/Read-only file system/);
  expect(fs.existsSync(path.join(shared, 'nope'))).toBe(false);

  fs.writeFileSync(path.join(readOnly, 'doc.txt'), 'read me\n');
  const share = await docker(['run', '--rm', '-v', `${readOnly}:/docs`, IMAGE, 'sh', '-c', 'cat /docs/doc.txt; echo x > /docs/nope'], 300_000);
  expect(share.code).not.toBe(0);
  expect(share.stdout).toBe('read me\n');
  expect(share.stderr).toMatch(/Read-only file system/);
  expect(fs.existsSync(path.join(readOnly, 'nope'))).toBe(false);
});

test('a bind mount outside every shared folder fails with Docker Desktop\'s message naming the setting', async () => {
  test.setTimeout(5 * 60_000);
  const expected = `Mounts denied: The path ${outside} is not shared from the host and is not known to Berth. You can configure shared paths in Berth's settings: vm.sharedFolders`;
  const v = await docker(['run', '--rm', '-v', `${outside}:/x`, IMAGE, 'true']);
  expect(v.code).not.toBe(0);
  expect(v.stderr).toContain(expected);
  const m = await docker(['create', '--mount', `type=bind,source=${outside},target=/x`, IMAGE]);
  expect(m.code).not.toBe(0);
  expect(m.stderr).toContain(expected);
  // A guest system folder is no host folder either; the engine socket is, as in Docker Desktop.
  expect((await docker(['run', '--rm', '-v', '/etc:/x', IMAGE, 'true'])).stderr).toContain('Mounts denied: The path /etc is not shared');
  const sock = await docker(['run', '--rm', '-v', '/var/run/docker.sock:/var/run/docker.sock', IMAGE, 'test', '-S', '/var/run/docker.sock'], 300_000);
  expect(sock.code, sock.stderr).toBe(0);
});

/** `nested`: a watch on a folder inside the bind mount is woken too (virtiofs keeps the guest's inodes; 9p's cache=mmap makes new ones, vm/README.md). */
async function hostEditWakesWatcher(label: string, nested: boolean): Promise<void> {
  const app = path.join(shared, `watched-${label}`);
  const bin = path.join(shared, `bin-${label}`);
  fs.mkdirSync(path.join(app, 'src', 'components'), { recursive: true });
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(app, 'index.js'), 'v1\n');
  fs.writeFileSync(path.join(app, 'src', 'components', 'button.js'), 'v1\n');
  // A static inotify watcher (busybox here has no inotifyd), run from the shared folder.
  const cc = await run('gcc', ['-static', '-O2', '-o', path.join(bin, 'inotify-watch'), path.join(import.meta.dirname, 'inotify-watch.c')]);
  expect(cc.code, cc.stderr).toBe(0);
  const w = spawn('docker', ['run', '--rm', '--name', 'folders-watcher', '-v', `${bin}:/t:ro`, '-v', `${app}:/src`, IMAGE, '/t/inotify-watch', '/src', ...(nested ? ['/src/src/components'] : [])], { env: { ...env, ...dockerEnv() } });
  watchers.push(w);
  let out = '';
  w.stdout.on('data', (c: Buffer) => (out += c.toString()));
  w.stderr.on('data', (c: Buffer) => (out += c.toString()));
  await expect.poll(() => out, { timeout: 180_000 }).toContain('watching');
  // The host agent refreshes what it watches every 2 s.
  await new Promise((r) => setTimeout(r, 5000));
  const before = out.length;
  const t0 = Date.now();
  fs.writeFileSync(path.join(app, 'index.js'), 'v2\n');
  await expect.poll(() => out.slice(before), { timeout: 30_000 }).toMatch(/event 0x[0-9a-f]+ index\.js/);
  console.log(`[vm] ${label}: inotify in the container woke ${Date.now() - t0} ms after the host edit (events: ${JSON.stringify(out.slice(before).trim())})`);
  // A file created on the host shows up as an event on its folder.
  const before2 = out.length;
  fs.writeFileSync(path.join(app, 'added.js'), 'new\n');
  await expect.poll(() => out.slice(before2), { timeout: 30_000 }).toMatch(/event 0x[0-9a-f]+ added\.js/);
  if (nested) {
    const before3 = out.length;
    fs.writeFileSync(path.join(app, 'src', 'components', 'button.js'), 'v2\n');
    await expect.poll(() => out.slice(before3), { timeout: 30_000 }).toMatch(/event 0x[0-9a-f]+ button\.js/);
  }
  await docker(['rm', '-f', 'folders-watcher']);
}

test('a host edit wakes an inotify watcher in the container, on a nested folder too', async () => {
  test.setTimeout(10 * 60_000);
  await hostEditWakesWatcher('virtiofs', true);
});

test('the data disk shrinks on the host after docker system prune -a', async () => {
  test.setTimeout(15 * 60_000);
  const disk = path.join(home, 'vm', 'default', 'data.qcow2');
  expect(fs.existsSync(disk)).toBe(true);
  // 100 MiB in a container layer and again in the image committed from it: a committed container with random data.
  const big = await docker(['run', '--name', 'folders-big', IMAGE, 'sh', '-c', 'dd if=/dev/urandom of=/blob bs=1M count=100 2>/dev/null && sync'], 600_000);
  expect(big.code, big.stderr).toBe(0);
  expect((await docker(['commit', 'folders-big', 'folders-big:1'], 600_000)).code).toBe(0);
  await run('sync', []);
  const full = allocated(disk);
  const prune = await docker(['system', 'prune', '-a', '-f'], 600_000);
  expect(prune.code, prune.stderr).toBe(0);
  // ext4 discards freed blocks at once (mount -o discard), QEMU punches them out of the qcow2 (discard=unmap).
  await expect.poll(() => allocated(disk), { timeout: 120_000, intervals: [2000] }).toBeLessThan(full - 150 * 1024 * 1024);
  console.log(`[vm] data.qcow2: ${(full / 1048576).toFixed(0)} MiB allocated with the image, ${(allocated(disk) / 1048576).toFixed(0)} MiB after docker system prune -a`);
});

test('restarted with vm.fileSharing 9p, the read-write folder is on 9p and works the same; no virtiofsd is left', async () => {
  test.setTimeout(20 * 60_000);
  const stop = await berth(['vm', 'stop'], 120_000);
  expect(stop.code, stop.stderr).toBe(0);
  // The daemons go with QEMU.
  await expect.poll(() => virtiofsdFor(shared).length, { timeout: 10_000 }).toBe(0);
  env = { ...env, BERTH_VM_FILE_SHARING: '9p' };
  const start = await berth(['vm', 'start'], 8 * 60_000);
  expect(start.code, `${start.stdout}\n${start.stderr}`).toBe(0);
  pids.qemu = readPid(path.join(runDir, 'qemu.pid'));
  pids.hostAgent = readPid(path.join(runDir, 'host-agent.pid'));
  const cmdline = fs.readFileSync(`/proc/${pids.qemu}/cmdline`, 'utf8').split('\0');
  expect(cmdline).toContain(`local,id=fs1,path=${shared},security_model=none,multidevs=remap`);
  expect(cmdline.join(' ')).not.toMatch(/vhost-user-fs|memory-backend-memfd/);
  expect(virtiofsdFor(shared)).toEqual([]);
  expect((await berth(['vm', 'status'])).stdout).toContain('file sharing: 9p: asked for (vm.fileSharing / BERTH_VM_FILE_SHARING)');
  // `system prune -a` took the image: import it again.
  const imp = await docker(['import', busyboxTar, IMAGE], 300_000);
  expect(imp.code, imp.stderr).toBe(0);
  await writtenFromBothSides('9p');
  await hostEditWakesWatcher('9p', false);
  const last = await berth(['vm', 'stop'], 120_000);
  expect(last.code, last.stderr).toBe(0);
});
