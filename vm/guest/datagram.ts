/**
 * The datagram route: one stream per UDP flow the host forwards (one client address on a published
 * UDP port). Frames from the host are sent from a socket connected to the target in the guest
 * (berthd's DNAT takes them to the container), and every reply goes back as a frame. The host ends
 * the stream when the flow goes idle.
 */
import dgram from 'node:dgram';
import http2 from 'node:http2';
import net from 'node:net';
import { FrameDecoder, encodeFrame } from '../channel/datagram-frames.js';
import { HEADERS, parseTarget } from '../channel/protocol.js';

export function datagram(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  let target;
  try {
    target = parseTarget(String(headers[HEADERS.target] ?? ''));
    if (target.kind !== 'udp') throw new Error(`not a udp target: ${String(headers[HEADERS.target])}`);
  } catch (err) {
    stream.respond({ ':status': 400, [HEADERS.error]: (err as Error).message }, { endStream: true });
    return;
  }
  const { host, port } = target;
  const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  const queue: Buffer[] = [];
  let connected = false;
  const decoder = new FrameDecoder((payload) => {
    if (connected) sock.send(payload);
    else queue.push(Buffer.from(payload));
  });
  const done = () => {
    try {
      sock.close();
    } catch {
      // already closed
    }
  };
  sock.on('error', (err) => {
    // ECONNREFUSED for a port nobody listens on yet: UDP drops it, so do we.
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return;
    if (!stream.headersSent && !stream.destroyed) stream.respond({ ':status': 502, [HEADERS.error]: err.message }, { endStream: true });
    else if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    done();
  });
  sock.on('message', (msg) => {
    if (!stream.destroyed) stream.write(encodeFrame(msg));
  });
  sock.connect(port, host, () => {
    connected = true;
    if (stream.destroyed) return done();
    stream.respond({ ':status': 200 });
    for (const q of queue.splice(0)) sock.send(q);
  });
  stream.on('error', done);
  stream.on('data', (c: Buffer) => decoder.push(c));
  stream.on('end', () => {
    if (!stream.destroyed) stream.end();
  });
  stream.once('close', done);
}
