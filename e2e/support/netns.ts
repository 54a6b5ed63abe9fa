/**
 * Stand-ins for other machines in network tests: a network namespace joined
 * to the host by a veth pair (host end 100.64.x.y/30), with a default route
 * through the host. Never any address outside this machine. Also a tiny DNS
 * server to act as the "upstream" resolver, and port helpers.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import type { RunResult } from './berthd.js';

let seq = 0;

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class OutsideHost {
  private readonly children: ChildProcess[] = [];

  private constructor(
    readonly ns: string,
    readonly hostIf: string,
    /** The host's address on the link (what the outside host reaches the host at). */
    readonly hostIp: string,
    /** The outside host's own address. */
    readonly ip: string,
  ) {}

  /** Creates an outside host; slot keeps names and addresses apart from concurrent test daemons. */
  static create(slot: number): OutsideHost {
    const k = seq++ % 64;
    const ns = `bto${slot}x${k}-${process.pid}`;
    const hostIf = `bo${slot}x${k}`;
    const inner = `bi${slot}x${k}`;
    const base = `100.${64 + (slot >> 8)}.${slot & 255}`;
    const hostIp = `${base}.${k * 4 + 1}`;
    const ip = `${base}.${k * 4 + 2}`;
    const o = new OutsideHost(ns, hostIf, hostIp, ip);
    o.destroy();
    try {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', inner, 'netns', ns]);
      sh('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
      sh('ip', ['link', 'set', hostIf, 'up']);
      sh('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${ip}/30`, 'dev', inner]);
      sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up']);
      sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      sh('ip', ['netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', hostIp]);
    } catch (err) {
      o.destroy();
      throw err;
    }
    return o;
  }

  /**
   * Makes the outside host send packets for 127.0.0.1 to the host (as an
   * attacker on the same link would, CVE-2020-8558): its own loopback is
   * taken down so the route applies.
   */
  routeLoopbackToHost(): void {
    const inner = this.hostIf.replace(/^bo/, 'bi');
    sh('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', 'lo', 'down']);
    sh('ip', ['netns', 'exec', this.ns, 'sysctl', '-q', '-w', `net.ipv4.conf.${inner}.route_localnet=1`]);
    sh('ip', ['netns', 'exec', this.ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.route_localnet=1']);
    sh('ip', ['netns', 'exec', this.ns, 'ip', 'route', 'add', '127.0.0.1/32', 'via', this.hostIp, 'dev', inner]);
  }

  exec(args: string[], timeoutMs = 20_000): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', this.ns, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Starts a long-running program on the outside host; destroy() stops it. */
  spawn(args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, ...args], { stdio: 'ignore' });
    this.children.push(child);
    return child;
  }

  /** GETs a URL from the outside host; code 0 means success (curl's exit code otherwise). */
  curl(url: string, timeoutSec = 3): Promise<RunResult> {
    return this.exec(['curl', '-sS', '-m', String(timeoutSec), url], (timeoutSec + 5) * 1000);
  }

  destroy(): void {
    for (const c of this.children.splice(0)) c.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', this.ns], { stdio: 'ignore' });
    } catch {
      /* not there */
    }
    try {
      execFileSync('ip', ['link', 'del', this.hostIf], { stdio: 'ignore' });
    } catch {
      /* gone with the namespace */
    }
  }
}

/** A free TCP port on all addresses (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ port: 0, host: '0.0.0.0' }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The host's first non-loopback IPv4 address outside any bridge or veth (eth0 on test machines). */
export function hostAddress(): string | undefined {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (/^(lo|br-|bte|berth|veth|docker|bo\d|bi\d)/.test(name)) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return undefined;
}

/** A DNS server answering A queries for names under `zone` with a fixed address, counting every query it gets. */
export class FakeUpstreamDns {
  queries: string[] = [];
  private sock: dgram.Socket | undefined;

  constructor(
    readonly address: string,
    readonly zone: string,
    readonly answer: string,
  ) {}

  async start(): Promise<void> {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      let off = 12;
      const labels: string[] = [];
      while (off < msg.length && msg[off]! > 0) {
        labels.push(msg.toString('latin1', off + 1, off + 1 + msg[off]!));
        off += 1 + msg[off]!;
      }
      const qend = off + 5;
      const name = labels.join('.').toLowerCase();
      const qtype = msg.readUInt16BE(off + 1);
      this.queries.push(name);
      const ours = name === this.zone || name.endsWith(`.${this.zone}`);
      const header = Buffer.from(msg.subarray(0, 12));
      header[2] = 0x84 | (msg[2]! & 1);
      header[3] = ours ? 0x80 : 0x83; // NXDOMAIN outside the zone
      const answers: Buffer[] = [];
      if (ours && qtype === 1) {
        const rr = Buffer.alloc(16);
        rr.writeUInt16BE(0xc00c, 0);
        rr.writeUInt16BE(1, 2);
        rr.writeUInt16BE(1, 4);
        rr.writeUInt32BE(60, 6);
        rr.writeUInt16BE(4, 10);
        this.answer.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
        answers.push(rr);
      }
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(answers.length, 6);
      header.writeUInt16BE(0, 8);
      header.writeUInt16BE(0, 10);
      sock.send(Buffer.concat([header, msg.subarray(12, qend), ...answers]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(53, this.address, () => resolve());
    });
    this.sock = sock;
  }

  stop(): void {
    this.sock?.close();
    this.sock = undefined;
  }
}
