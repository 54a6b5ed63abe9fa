/**
 * Published ports through the Berth VM (issue 12): a busybox httpd in the VM behind `-p`, measured
 * from the host through the forward (host listener → agent channel → guest → container) and, with
 * the same client, inside the guest straight to the container (no forward), plus the same on a
 * native berthd for scale:
 *   - small-request latency: sequential GETs of a 6-byte file, a new connection each (what a
 *     browser or test client reconnecting pays), median and p90
 *   - throughput: a 64 MiB file with wrk (host side) and with the Node client (both sides)
 *   - how long after `docker run -d` returns the host port accepts a connection
 * Usage: npx tsx bench/vm-ports.ts [--requests 200] [--duration 10] [--json out.json] [--no-native]
 * Boots its own VM (BERTH_HOME in a temp folder) from this checkout's build (the base from the e2e
 * fixture cache); needs wrk and QEMU (scripts/install-system-deps.sh).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePrivateVmImage } from '../e2e/support/vm-image.js';
import { ensureBusyboxTar, machine, repoRoot, startBerthd } from './lib/engines.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '200' }, duration: { type: 'string', default: '10' }, json: { type: 'string' }, 'no-native': { type: 'boolean', default: false } } });
const requests = Number(values.requests);
const duration = Number(values.duration);
const dist = path.join(repoRoot, process.env.BERTH_DIST ?? 'dist');
const berthCli = path.join(dist, 'electron', 'cli', 'berth.js');
const IMAGE = 'berth-bench-busybox:1';

/** The client both sides run (Node is in the guest's root): latency of new-connection GETs, then bulk downloads. */
const CLIENT = `const http=require('http');const [base,n]=[process.argv[1],Number(process.argv[2])];
const get=(u)=>new Promise((res,rej)=>{http.get(u,{agent:false},(r)=>{let b=0;r.on('data',(d)=>b+=d.length);r.on('end',()=>res(b));}).on('error',rej);});
(async()=>{for(let i=0;i<10;i++)await get(base+'/small');const lat=[];for(let i=0;i<n;i++){const t=process.hrtime.bigint();await get(base+'/small');lat.push(Number(process.hrtime.bigint()-t)/1e6);}
lat.sort((a,b)=>a-b);const t=process.hrtime.bigint();let bytes=0;for(let i=0;i<3;i++)bytes+=await get(base+'/big');const s=Number(process.hrtime.bigint()-t)/1e9;
console.log('BENCH '+JSON.stringify({p50:lat[n>>1],p90:lat[Math.floor(n*0.9)],mbit:bytes*8/s/1e6}));})().catch((e)=>console.log('BENCHERR '+e.message));`;

interface ClientResult {
  p50: number;
  p90: number;
  mbit: number;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = execFile(cmd, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 15 * 60_000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    if (input !== undefined) c.stdin?.end(input);
  });
}

async function ok(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const r = await sh(cmd, args, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.err || r.out}`);
  return r.out;
}

function parseClient(out: string): ClientResult {
  const m = /BENCH (\{.*\})/.exec(out);
  if (!m) throw new Error(`client failed: ${out.slice(-500)}`);
  return JSON.parse(m[1]!) as ClientResult;
}

async function wrkMbit(url: string): Promise<number> {
  const out = await ok('wrk', ['-t', '1', '-c', '4', '-d', `${duration}s`, url]);
  const m = /Transfer\/sec:\s+([\d.]+)(KB|MB|GB)/.exec(out);
  if (!m) throw new Error(`wrk: ${out}`);
  const mult = m[2] === 'GB' ? 1024 ** 3 : m[2] === 'MB' ? 1024 ** 2 : 1024;
  return (Number(m[1]) * mult * 8) / 1e6;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '0.0.0.0', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

const serverCmd = ['sh', '-c', 'mkdir -p /www && echo small > /www/small && dd if=/dev/zero of=/www/big bs=1M count=64 2>/dev/null && exec httpd -f -p 80 -h /www'];

async function waitPage(url: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await sh('curl', ['-sf', '-o', '/dev/null', url]);
    if (r.code === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never answered`);
}

/**
 * Runs the client inside the guest: a privileged container enters the guest's mount and network
 * namespaces (pid 1's) and runs the guest's node. (Typing the script into `berth vm shell` failed:
 * a pty's line is at most 4,096 characters.)
 */
async function inGuest(denv: NodeJS.ProcessEnv, base: string): Promise<ClientResult> {
  const r = await sh('docker', ['run', '--rm', '--privileged', '--pid', 'host', IMAGE, 'nsenter', '-t', '1', '-m', '-n', '--', '/usr/bin/node', '-e', CLIENT, base, String(requests)], denv);
  return parseClient(r.out + r.err);
}

async function main(): Promise<void> {
  const load0 = os.loadavg();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bvmbench-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BERTH_HOME: home,
    // This checkout's build (base from the e2e fixture cache), in a store no other run can switch.
    BERTH_VM_IMAGES: path.join(home, 'vm-images'),
    DOCKER_CONFIG: path.join(home, 'docker'),
    BERTH_VM_CPUS: '2',
    BERTH_VM_MEMORY_MIB: '1024',
    BERTH_VM_DISK_GIB: '8',
    BERTH_VM_ARCH: 'amd64',
    DOCKER_CLI_HINTS: 'false',
  };
  const denv = { ...env, DOCKER_HOST: `unix://${path.join(home, 'run', 'vm-default', 'docker.sock')}` };
  const result: Record<string, unknown> = { date: new Date().toISOString(), machine: machine(), loadBefore: load0.map((x) => x.toFixed(1)).join(' ') };
  try {
    console.log((await ensurePrivateVmImage(path.join(home, 'vm-images'), 'amd64')).summary);
    console.log(await ok(process.execPath, [berthCli, 'vm', 'start'], env));
    await ok('docker', ['import', ensureBusyboxTar(), IMAGE], denv);
    const port = await freePort();
    const before = performance.now();
    const id = (await ok('docker', ['run', '-d', '-p', `${port}:80`, IMAGE, ...serverCmd], denv)).trim();
    const returned = performance.now();
    const listening = await connects(port);
    const acceptMs = performance.now() - returned;
    result.dockerRunMs = Math.round(returned - before);
    result.listenerAtReturn = listening;
    result.listenerConnectMs = Number(acceptMs.toFixed(1));
    const url = `http://127.0.0.1:${port}`;
    await waitPage(`${url}/big`);
    result.forwardedNode = parseClient(await ok(process.execPath, ['-e', CLIENT, url, String(requests)]));
    result.forwardedWrkMbit = Number((await wrkMbit(`${url}/big`)).toFixed(0));
    const ip = (await ok('docker', ['inspect', '--format', '{{.NetworkSettings.IPAddress}}', id], denv)).trim();
    console.log(JSON.stringify(result));
    // The same client inside the guest; a failure there is recorded, not fatal.
    result.guestDirectNode = await inGuest(denv, `http://${ip}`).catch((err: Error) => ({ error: err.message.slice(0, 200) }));
    console.log(JSON.stringify(result));
    result.guestLoopbackNode = await inGuest(denv, `http://127.0.0.1:${port}`).catch((err: Error) => ({ error: err.message.slice(0, 200) }));
    console.log(JSON.stringify(result));
  } finally {
    await sh(process.execPath, [berthCli, 'vm', 'stop'], env);
    fs.rmSync(home, { recursive: true, force: true });
  }
  if (!values['no-native']) {
    const e = await startBerthd(process.env.BERTH_DIST ?? 'dist');
    try {
      const nenv = { ...process.env, DOCKER_HOST: `unix://${e.socket}` };
      await ok('docker', ['import', ensureBusyboxTar(), IMAGE], nenv);
      const port = await freePort();
      await ok('docker', ['run', '-d', '-p', `${port}:80`, IMAGE, ...serverCmd], nenv);
      const url = `http://127.0.0.1:${port}`;
      await waitPage(`${url}/big`);
      result.nativeNode = parseClient(await ok(process.execPath, ['-e', CLIENT, url, String(requests)]));
      result.nativeWrkMbit = Number((await wrkMbit(`${url}/big`)).toFixed(0));
    } finally {
      await e.stop();
    }
  }
  result.loadAfter = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(JSON.stringify(result, null, 2));
  if (values.json) fs.writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
