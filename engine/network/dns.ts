/**
 * The embedded DNS server of a user-defined network (Docker serves
 * 127.0.0.11 in every container; Node cannot enter a netns, so berthd serves
 * on the network's gateway address instead). Names of containers on the
 * network answer from berthd's records; everything else is forwarded to the
 * host's resolvers, except on internal networks (CVE-2024-29018: an
 * internal network must not leak queries to the outside).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { parseIp6 } from './ipnet6.js';

const TYPE_A = 1;
const TYPE_PTR = 12;
const TYPE_MX = 15;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_SERVFAIL = 2;
const TTL = 600;
const FORWARD_TIMEOUT_MS = 2000;
const MAX_UDP = 512;

export interface Question {
  name: string;
  type: number;
  cls: number;
  /** Byte offset just past the question section. */
  end: number;
}

/**
 * What the network knows about a name (undefined: not ours, forward it): its IPv4 addresses and,
 * on dual-stack networks, its IPv6 ones (`ips6`, the AAAA records).
 */
export type LocalAnswer = { kind: 'a'; ips: string[]; ips6?: string[] } | { kind: 'ptr'; name: string } | undefined;

export interface DnsBackend {
  /** Looks a name up for a client (by its source address). */
  resolve(client: string, name: string, type: 'A' | 'PTR'): LocalAnswer;
  /** Upstream resolvers for this client; empty means do not forward. */
  upstreams(client: string): string[];
}

export function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12) return undefined;
  const qd = msg.readUInt16BE(4);
  if (qd !== 1) return undefined;
  let off = 12;
  const labels: string[] = [];
  for (let guard = 0; guard < 128; guard++) {
    if (off >= msg.length) return undefined;
    const len = msg[off]!;
    if (len === 0) {
      off++;
      break;
    }
    // Compression pointers cannot appear in the first question name.
    if (len > 63 || off + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  return { name: labels.join('.'), type: msg.readUInt16BE(off), cls: msg.readUInt16BE(off + 2), end: off + 4 };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean);
  const bufs = parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')]));
  return Buffer.concat([...bufs, Buffer.from([0])]);
}

/** A response echoing the question, with the given answers (already encoded RRs). */
function response(query: Buffer, q: Question, rcode: number, answers: Buffer[]): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  const rd = query[2]! & 0x01;
  header[2] = 0x80 | 0x04 | rd; // QR, AA, RD copied
  header[3] = 0x80 | rcode; // RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, query.subarray(12, q.end), ...answers]);
}

function rr(type: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0); // pointer to the question name
  fixed.writeUInt16BE(type, 2);
  fixed.writeUInt16BE(CLASS_IN, 4);
  fixed.writeUInt32BE(TTL, 6);
  fixed.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([fixed, rdata]);
}

/** Answers a query from local records, or returns undefined when it must be forwarded. */
export function answerLocally(query: Buffer, client: string, backend: DnsBackend): Buffer | undefined {
  const q = parseQuestion(query);
  if (!q) return undefined;
  if (q.cls !== CLASS_IN) return undefined;
  const name = q.name.toLowerCase().replace(/\.$/, '');
  if (q.type === TYPE_PTR) {
    const a = backend.resolve(client, name, 'PTR');
    if (a?.kind === 'ptr') return response(query, q, 0, [rr(TYPE_PTR, encodeName(a.name))]);
    return undefined;
  }
  if (q.type !== TYPE_A && q.type !== TYPE_AAAA && q.type !== TYPE_MX) return undefined;
  const a = backend.resolve(client, name, 'A');
  if (a?.kind !== 'a') return undefined;
  const shuffle = (xs: string[]): string[] => [...xs].sort(() => Math.random() - 0.5);
  if (q.type === TYPE_AAAA) return response(query, q, 0, shuffle(a.ips6 ?? []).map((ip) => rr(TYPE_AAAA, ip6Bytes(ip))));
  // A known name without MX records (or without IPv6 ones, above): an empty NOERROR answer, as Docker gives.
  if (q.type !== TYPE_A) return response(query, q, 0, []);
  return response(query, q, 0, shuffle(a.ips).map((ip) => rr(TYPE_A, Buffer.from(ip.split('.').map(Number)))));
}

function ip6Bytes(ip: string): Buffer {
  const b = Buffer.alloc(16);
  let n = parseIp6(ip);
  for (let i = 15; i >= 0; i--) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return b;
}

export function servfail(query: Buffer): Buffer | undefined {
  const q = parseQuestion(query);
  if (!q) return undefined;
  return response(query, q, RCODE_SERVFAIL, []);
}

/** Sends the raw query to each upstream in turn until one answers. */
async function forward(query: Buffer, upstreams: string[]): Promise<Buffer | undefined> {
  for (const server of upstreams) {
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const sock = dgram.createSocket(server.includes(':') ? 'udp6' : 'udp4');
      const done = (v: Buffer | undefined) => {
        clearTimeout(timer);
        sock.close();
        resolve(v);
      };
      const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
      sock.on('error', () => done(undefined));
      sock.on('message', (m) => {
        if (m.length >= 2 && m.readUInt16BE(0) === query.readUInt16BE(0)) done(m);
      });
      // Connected, so an unreachable server fails at once (ICMP refusal) instead of timing out.
      sock.connect(53, server, () => {
        sock.send(query, (err) => {
          if (err) done(undefined);
        });
      });
    });
    if (reply) return reply;
  }
  return undefined;
}

export async function handleQuery(query: Buffer, client: string, backend: DnsBackend): Promise<Buffer | undefined> {
  const local = answerLocally(query, client, backend);
  if (local) return local;
  if (!parseQuestion(query)) return undefined;
  const upstreams = backend.upstreams(client);
  const fwd = upstreams.length > 0 ? await forward(query, upstreams) : undefined;
  return fwd ?? servfail(query);
}

/** UDP and TCP listeners on one address, port 53. */
export class DnsServer {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;

  constructor(
    readonly address: string,
    private readonly backend: DnsBackend,
    private readonly onError: (err: Error) => void,
  ) {}

  async start(port = 53): Promise<void> {
    const udp = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (msg, rinfo) => {
      void handleQuery(msg, rinfo.address, this.backend)
        .then((reply) => {
          if (!reply) return;
          // Over UDP, a reply larger than the classic limit is cut and flagged truncated (TC) so the client retries on TCP.
          if (reply.length > MAX_UDP && !hasEdns(msg)) {
            const q = parseQuestion(reply);
            const cut = Buffer.from(reply.subarray(0, q ? q.end : 12));
            cut[2] = cut[2]! | 0x02;
            cut.writeUInt16BE(0, 6);
            cut.writeUInt16BE(0, 8);
            cut.writeUInt16BE(0, 10);
            reply = cut;
          }
          udp.send(reply, rinfo.port, rinfo.address);
        })
        .catch((err: Error) => this.onError(err));
    });
    udp.on('error', (err) => this.onError(err));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.udp = udp;
    const tcp = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.setTimeout(10_000, () => sock.destroy());
      sock.on('error', () => undefined);
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length > 70_000) return sock.destroy();
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const q = buf.subarray(2, 2 + len);
          buf = buf.subarray(2 + len);
          void handleQuery(Buffer.from(q), sock.remoteAddress ?? '', this.backend).then((reply) => {
            if (!reply || sock.destroyed) return;
            const lenBuf = Buffer.alloc(2);
            lenBuf.writeUInt16BE(reply.length);
            sock.write(Buffer.concat([lenBuf, reply]));
          });
        }
      });
    });
    tcp.on('error', (err) => this.onError(err));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ port, host: this.address, exclusive: true }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
  }

  async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }
}

/** True when the query carries an EDNS0 OPT record (the client accepts large UDP replies). */
function hasEdns(msg: Buffer): boolean {
  return msg.length >= 12 && msg.readUInt16BE(10) > 0;
}
