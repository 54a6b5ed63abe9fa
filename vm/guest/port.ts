/**
 * The guest end of the agent channel: the virtio-serial port (found by its name in sysfs) as one
 * duplex stream, the handshake, then an HTTP/2 server session on it. The port can be opened once
 * at a time and reads end (EOF) whenever the host side disconnects, so the session is rebuilt
 * after every disconnect; the host reconnects and the handshake tells old bytes from new.
 */
import fs from 'node:fs';
import http2 from 'node:http2';
import { Duplex } from 'node:stream';
import { EagerDuplex } from '../channel/eager-duplex.js';
import { GuestHandshake } from '../channel/handshake.js';
import { HTTP2_SETTINGS, MAX_SESSION_MEMORY_MIB, SESSION_WINDOW } from '../channel/protocol.js';

/** A read/write file descriptor as a Duplex (reads on the thread pool; one fd, as the port allows one open). */
export class FdDuplex extends Duplex {
  private reading = false;

  constructor(
    private readonly fd: number,
    private prefix?: Buffer,
  ) {
    super({ allowHalfOpen: false, highWaterMark: 256 * 1024 });
  }

  override _read(size: number): void {
    if (this.prefix?.length) {
      const p = this.prefix;
      this.prefix = undefined;
      this.push(p);
      return;
    }
    if (this.reading) return;
    this.reading = true;
    const buf = Buffer.allocUnsafe(Math.max(size, 64 * 1024));
    fs.read(this.fd, buf, 0, buf.length, null, (err, n) => {
      this.reading = false;
      if (err) {
        if (err.code === 'EAGAIN') setTimeout(() => this._read(size), 10);
        else this.destroy(err);
        return;
      }
      this.push(n === 0 ? null : buf.subarray(0, n));
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    writeAll(this.fd, chunk, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    writeAll(this.fd, Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }
}

function writeAll(fd: number, buf: Buffer, cb: (err?: Error | null) => void): void {
  fs.write(fd, buf, 0, buf.length, null, (err, n) => {
    if (err) return cb(err);
    if (n < buf.length) return writeAll(fd, buf.subarray(n), cb);
    cb();
  });
}

export interface PortServerOptions {
  /** The virtio-serial port's name (QEMU's virtserialport name=). */
  portName: string;
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;
  log: (msg: string) => void;
}

/** Serves the port forever: open, handshake, HTTP/2 until EOF, again. */
export function agentServer(onStream: PortServerOptions['onStream'], log: (m: string) => void): http2.Http2Server {
  const server = http2.createServer({ settings: HTTP2_SETTINGS, maxSessionMemory: MAX_SESSION_MEMORY_MIB });
  server.on('stream', onStream);
  server.on('session', (s) => {
    s.setLocalWindowSize(SESSION_WINDOW);
    s.on('error', (err) => log(`agent session: ${err.message}`));
  });
  return server;
}

/**
 * The port's device node by its name. udev would make /dev/virtio-ports/<name>; the guest has no
 * udev, so the name is looked up in sysfs (/sys/class/virtio-ports/vportNpM/name).
 */
export function findPortDevice(name: string, sys = '/sys/class/virtio-ports'): string | undefined {
  try {
    for (const d of fs.readdirSync(sys)) {
      if (fs.readFileSync(`${sys}/${d}/name`, 'utf8').trim() === name) return `/dev/${d}`;
    }
  } catch {
    // Not there yet.
  }
  return undefined;
}

export async function servePort(o: PortServerOptions): Promise<never> {
  const server = agentServer(o.onStream, o.log);
  let complained = false;
  for (;;) {
    let fd: number;
    const device = findPortDevice(o.portName);
    try {
      if (!device) throw new Error(`no virtio-serial port named ${o.portName}`);
      fd = fs.openSync(device, 'r+');
    } catch (err) {
      if (!complained) o.log(`cannot open the agent port: ${(err as Error).message}`);
      complained = true;
      await sleep(200);
      continue;
    }
    try {
      await serveOnce(fd, server, o);
    } catch (err) {
      o.log(`agent channel: ${(err as Error).message}`);
    }
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed with the stream.
    }
    // EOF comes back at once while no host is connected: do not spin.
    await sleep(200);
  }
}

async function serveOnce(fd: number, server: http2.Http2Server, o: PortServerOptions): Promise<void> {
  await serveDuplex(new FdDuplex(fd), server, o.log);
}

/** One host connection on a byte stream: the handshake, then HTTP/2 until it ends. */
export async function serveDuplex(raw: Duplex, server: http2.Http2Server, log: (m: string) => void): Promise<void> {
  // Answers go straight to the port; HTTP/2 then reads the same stream from the preface on.
  const hs = new GuestHandshake((line) => raw.write(line));
  const rest = await new Promise<Buffer | undefined>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const r = hs.feed(chunk);
      if (r) {
        raw.pause();
        raw.off('data', onData);
        resolve(r);
      }
    };
    raw.on('data', onData);
    raw.once('end', () => resolve(undefined));
    raw.once('error', reject);
  });
  if (!rest) {
    raw.destroy();
    return;
  }
  const conn = new EagerDuplex(raw, rest);
  await new Promise<void>((resolve) => {
    conn.once('close', () => resolve());
    conn.on('error', (err) => log(`agent channel: ${err.message}`));
    conn.once('end', () => {
      log('host disconnected');
      conn.destroy();
    });
    log('host connected');
    server.emit('connection', conn);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
