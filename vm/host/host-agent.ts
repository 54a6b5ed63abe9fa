#!/usr/bin/env node
/**
 * The host agent: one detached process per running VM (as Lima's hostagent), started by
 * `berth vm start` or the app and outliving both. It owns QEMU (through VmMachine), the agent
 * channel, the engine API socket, the docker context, the guest's clock and resolver, and a
 * control socket (HTTP on a 0600 unix socket) for status, start/stop, logs and `berth vm shell`.
 * It exits after the VM is stopped through it; after a crash it stays, reporting `error`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HEADERS, ROUTES } from '../channel/protocol.js';
import { ImageStore } from '../image/store.js';
import { acceleratorCandidates, AcceleratorVerdicts, parseAccelHelp } from './accelerator.js';
import { ApiSocket } from './api-socket.js';
import { ensureDockerContext } from './docker-context.js';
import { VmMachine, VmError } from './machine.js';
import { dockerHostOf, type VmPaths } from './paths.js';
import { QemuProvider, socketAnswers, tailText } from './provider.js';
import { findQemu, qemuImgFor } from './qemu-binary.js';
import { hostArch } from './qemu-args.js';
import type { VmResources } from './resources.js';
import { GuestSync } from './guest-sync.js';
import { HostPortForwarder } from './port-forward.js';
import { PortForwardSync } from './port-forward-sync.js';
import { FolderEvents } from './folder-events.js';
import { chooseFileSharing, findVirtiofsd, virtiofsdCandidates } from './file-sharing.js';
import type { FolderShare } from './qemu-args.js';

export interface HostAgentConfig {
  paths: VmPaths;
  resources: VmResources;
  imagesDir: string;
  /** Create/refresh the docker context of this name (null: none). */
  dockerContext: string | null;
  qemuBinary?: string;
  forcedAccelerator?: string;
}

const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);

export function ensureDataDisk(qemuImg: string, file: string, sizeGiB: number): string | undefined {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) {
    execFileSync(qemuImg, ['create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on,preallocation=off', file, `${sizeGiB}G`]);
    return `created ${file} (${sizeGiB} GiB, sparse)`;
  }
  const info = JSON.parse(execFileSync(qemuImg, ['info', '--output=json', '-U', file]).toString()) as { 'virtual-size': number };
  const want = sizeGiB * 1024 ** 3;
  if (info['virtual-size'] < want) {
    execFileSync(qemuImg, ['resize', '-q', file, `${sizeGiB}G`]);
    return `grew ${file} to ${sizeGiB} GiB (the guest grows its filesystem at boot)`;
  }
  if (info['virtual-size'] > want) return `the disk setting (${sizeGiB} GiB) is smaller than the disk (${Math.round(info['virtual-size'] / 1024 ** 3)} GiB); disks are never shrunk (that would lose data)`;
  return undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
  if (!values.config) throw new Error('--config is required');
  const cfg = JSON.parse(fs.readFileSync(values.config, 'utf8')) as HostAgentConfig;
  const p = cfg.paths;
  fs.mkdirSync(p.runDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(p.runDir, 0o700);
  fs.mkdirSync(p.stateDir, { recursive: true });
  fs.mkdirSync(path.dirname(p.consoleLog), { recursive: true });
  if (process.platform !== 'win32' && (await socketAnswers(p.controlSocket))) throw new Error(`a host agent for VM ${p.name} is already running (${p.controlSocket})`);
  fs.writeFileSync(p.hostAgentPidFile, `${process.pid}\n`);

  const image = new ImageStore(cfg.imagesDir).resolve(cfg.resources.arch);
  const qemu = cfg.qemuBinary ?? findQemu(cfg.resources.arch);
  const accelHelp = execFileSync(qemu, ['-accel', 'help']).toString();
  const version = execFileSync(qemu, ['-version']).toString().split('\n')[0] ?? '';
  const verdicts = new AcceleratorVerdicts(p.verdicts, `${qemu}|${version}|${process.platform}|${(await import('node:os')).release()}`);
  const { candidates, notes } = acceleratorCandidates({
    platform: process.platform,
    hostArch: hostArch(),
    guestArch: cfg.resources.arch,
    available: parseAccelHelp(accelHelp),
    forced: cfg.forcedAccelerator,
    knownBad: verdicts.knownBad(),
  });
  for (const n of notes) log(`accelerator ${n}`);
  const diskNote = ensureDataDisk(qemuImgFor(qemu), p.dataDisk, cfg.resources.diskGiB);
  if (diskNote) log(diskNote);

  // A shared folder that is gone (an unplugged drive) is left out rather than failing the start.
  const shares = (cfg.resources.sharedFolders ?? []).filter((f) => {
    const ok = fs.statSync(f.path, { throwIfNoEntry: false })?.isDirectory() === true;
    if (!ok) log(`shared folder ${f.path} is not a folder on this host; not shared`);
    return ok;
  });
  const virtiofsd = shares.length && process.platform === 'linux' ? findVirtiofsd() : undefined;
  const sharing = chooseFileSharing({ platform: process.platform, root: process.getuid?.() === 0, virtiofsd, searched: virtiofsdCandidates() }, cfg.resources.fileSharing);
  const folderShares: FolderShare[] = shares.map((f, i) => {
    const transport = f.readOnly ? sharing.readOnly : sharing.readWrite;
    return { ...f, transport, ...(transport === 'virtiofs' ? { socket: path.join(p.runDir, `virtiofs-${i}.sock`) } : {}) };
  });
  if (shares.length) {
    log(`file sharing: ${sharing.why}`);
    log(`shared folders: ${folderShares.map((f) => `${f.path} (${f.transport}${f.readOnly ? ', read-only' : ''})`).join(', ')}`);
  }
  const provider = new QemuProvider({
    qemuBinary: qemu,
    log,
    ...(virtiofsd ? { virtiofsd } : {}),
    launch: {
      platform: process.platform,
      guestArch: cfg.resources.arch,
      cpus: cfg.resources.cpus,
      memoryMiB: cfg.resources.memoryMiB,
      image,
      dataDisk: p.dataDisk,
      qmp: p.qmp,
      agent: p.agent,
      consoleLog: p.consoleLog,
      pidFile: p.qemuPidFile,
      name: p.name,
      shares: folderShares,
      // BERTH_VM_9P_CACHE: another 9p cache mode for the shares (benchmarks; see vm/README.md).
      ...(process.env.BERTH_VM_9P_CACHE ? { kernelArgs: [`berth.9p-cache=${process.env.BERTH_VM_9P_CACHE}`] } : {}),
    },
  });
  const tcgOnly = candidates.length === 1 && candidates[0] === 'tcg';
  const machine = new VmMachine({
    provider,
    candidates,
    acceleratorNotes: notes,
    verdicts,
    log,
    // Software emulation on a loaded machine is slow: give it room; accelerated boots are seconds.
    bootTimeoutMs: tcgOnly ? 300_000 : 120_000,
    engineTimeoutMs: 90_000,
    tcgEngineTimeoutMs: 300_000,
    healthTimeoutMs: tcgOnly ? 30_000 : 10_000,
  });
  machine.on('change', (s: { state: string; step?: string; error?: string }) => log(`state ${s.state}${s.step ? ` (${s.step})` : ''}${s.error ? `: ${s.error}` : ''}`));
  const sync = new GuestSync(() => machine.channel(), log);
  machine.on('change', (s: { state: string }) => (s.state === 'running' ? sync.start() : sync.stop()));
  // Published ports of containers in the VM listen on the host (port-forward.ts, port-forward-sync.ts).
  const ports = new PortForwardSync({ channel: () => machine.channel(), forwarder: new HostPortForwarder({ channel: () => machine.channel(), log }), log });
  machine.on('change', (s: { state: string }) => (s.state === 'running' ? ports.start() : ports.stop()));
  const folderEvents = new FolderEvents(() => machine.channel(), log);
  if (shares.length) machine.on('change', (s: { state: string }) => (s.state === 'running' ? folderEvents.start() : folderEvents.stop()));

  const api = new ApiSocket(p.dockerSocket, () => machine.channel(), () => {
    const s = machine.status();
    return s.state === 'error' ? `the Berth VM failed: ${s.error}` : `the Berth VM is ${s.state}${s.step ? ` (${s.step})` : ''}`;
  });
  await api.listen();
  if (cfg.dockerContext) ensureDockerContext(cfg.dockerContext, dockerHostOf(p), `Berth VM (${p.name})`);

  let exiting = false;
  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    // Whatever the cleanup waits on, the agent is gone soon: a lingering agent holds the VM's name
    // and the next start is refused ("a host agent for VM default is already running").
    setTimeout(() => process.exit(code), 5000).unref();
    sync.stop();
    ports.stop();
    folderEvents.stop();
    await api.close();
    control.close();
    fs.rmSync(p.controlSocket, { force: true });
    fs.rmSync(p.hostAgentPidFile, { force: true });
    process.exit(code);
  };
  const statusBody = () => ({
    ...machine.status(),
    name: p.name,
    hostAgentPid: process.pid,
    dockerHost: dockerHostOf(p),
    dockerContext: cfg.dockerContext,
    resources: cfg.resources,
    qemu: { binary: qemu, version },
    image: { base: image.baseManifest.key, payload: image.payloadManifest.key, kernelRelease: image.baseManifest.kernelRelease },
    ...(diskNote ? { diskNote } : {}),
    ...(shares.length ? { fileSharing: { why: sharing.why, shares: folderShares.map((f) => ({ path: f.path, readOnly: f.readOnly, transport: f.transport })) } } : {}),
  });

  const control = http.createServer((req, res) => void handle(req, res));
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://control');
    const route = `${req.method} ${url.pathname}`;
    try {
      switch (route) {
        case 'GET /status':
          return send(res, 200, statusBody());
        case 'POST /start':
          await machine.start();
          return send(res, 200, statusBody());
        case 'POST /restart':
          await machine.restart();
          return send(res, 200, statusBody());
        case 'POST /stop':
          await machine.stop();
          send(res, 200, statusBody());
          res.once('finish', () => void exit(0));
          return;
        case 'GET /console':
          return send(res, 200, tailText(p.consoleLog, Number(url.searchParams.get('tail')) || 100) + '\n');
        case 'GET /engine-log':
        case 'GET /info': {
          const ch = machine.channel();
          if (!ch) return send(res, 409, { message: `the Berth VM is ${machine.status().state}` });
          const r = await ch.request(route === 'GET /info' ? ROUTES.info : `${ROUTES.engineLog}?tail=${Number(url.searchParams.get('tail')) || 100}`);
          res.writeHead(r.status, { 'content-type': String(r.headers['content-type'] ?? 'text/plain') });
          return void res.end(r.body);
        }
        case 'POST /shell/resize': {
          const ch = machine.channel();
          if (!ch) return send(res, 409, { message: 'the Berth VM is not running' });
          const r = await ch.request(ROUTES.shellResize, { method: 'POST', headers: { [HEADERS.shellId]: url.searchParams.get('id') ?? '', [HEADERS.rows]: url.searchParams.get('rows') ?? '24', [HEADERS.cols]: url.searchParams.get('cols') ?? '80' } });
          return send(res, r.status, r.body);
        }
        default:
          return send(res, 404, { message: `no route ${route}` });
      }
    } catch (err) {
      const e = err as Error;
      return send(res, e instanceof VmError && (e.code === 'already-running' || e.code === 'busy') ? 409 : 500, { message: e.message, ...(machine.status().consoleTail ? { consoleTail: machine.status().consoleTail } : {}) });
    }
  }
  // `berth vm shell`: the control connection is hijacked (as docker attach does) and joined to a shell stream.
  control.on('upgrade', (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const ch = machine.channel();
    if (url.pathname !== '/shell' || !ch) {
      sock.end(`HTTP/1.1 409 Conflict\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nthe Berth VM is ${machine.status().state}\n`);
      return;
    }
    const stream = ch.stream(ROUTES.shell, { [HEADERS.rows]: url.searchParams.get('rows') ?? '24', [HEADERS.cols]: url.searchParams.get('cols') ?? '80', 'berth-term': url.searchParams.get('term') ?? 'xterm-256color' });
    stream.once('response', (h) => {
      if (h[':status'] !== 200) {
        // The guest's reason (e.g. "cannot start a shell: ...") is the message berth vm shell prints.
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.once('end', () => sock.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${Buffer.concat(chunks).toString('utf8').slice(0, 4096)}`));
        return;
      }
      sock.write(`HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nBerth-Shell-Id: ${String(h[HEADERS.shellId] ?? '')}\r\n\r\n`);
      if (head.length) stream.write(head);
      sock.pipe(stream);
      stream.pipe(sock);
      stream.once('close', () => sock.end());
      sock.once('close', () => stream.destroyed || stream.close());
    });
    stream.on('error', () => sock.destroy());
    sock.on('error', () => stream.destroyed || stream.close());
  });
  if (process.platform !== 'win32') fs.rmSync(p.controlSocket, { force: true });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    const old = process.umask(0o177);
    try {
      control.listen(p.controlSocket, () => resolve());
    } finally {
      process.umask(old);
    }
  });
  if (process.platform !== 'win32') fs.chmodSync(p.controlSocket, 0o600);

  process.on('SIGTERM', () => void machine.stop().finally(() => void exit(0)));
  process.on('SIGINT', () => void machine.stop().finally(() => void exit(0)));
  log(`host agent ${process.pid}: VM ${p.name}, ${cfg.resources.cpus} CPUs, ${cfg.resources.memoryMiB} MiB, ${cfg.resources.diskGiB} GiB, ${cfg.resources.arch}; engine API ${dockerHostOf(p)}`);
  machine.start().then(
    (s) => log(`VM running with ${s.accelerator} in ${((s.timings?.totalMs ?? 0) / 1000).toFixed(1)} s`),
    (err: Error) => log(`VM start failed: ${err.message}`),
  );
}

main().catch((err: unknown) => {
  log(`host agent: ${(err as Error).message}`);
  process.exit(1);
});
