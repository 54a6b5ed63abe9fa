/**
 * The tunnel route: connect to a unix socket (berthd's) or, for published ports, a TCP address in
 * the guest, and join it to the HTTP/2 stream. The host writes before the answer comes back (no
 * round trip per Docker connection); the stream is paused until the connection is up.
 */
import type http2 from 'node:http2';
import net from 'node:net';
import { HEADERS, parseTarget } from '../channel/protocol.js';
import { joinStreams } from '../channel/tunnel.js';

export function connect(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  let target;
  try {
    target = parseTarget(String(headers[HEADERS.target] ?? ''));
  } catch (err) {
    stream.respond({ ':status': 400, [HEADERS.error]: (err as Error).message }, { endStream: true });
    return;
  }
  if (target.kind === 'udp') {
    stream.respond({ ':status': 400, [HEADERS.error]: 'udp targets take the datagram route' }, { endStream: true });
    return;
  }
  // Hold what the host sends before the connection is up (it does not wait for the response).
  stream.pause();
  const sock = target.kind === 'unix' ? net.connect({ path: target.path, allowHalfOpen: true }) : net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
  sock.setNoDelay?.(true);
  const onError = (err: Error) => {
    if (!stream.headersSent && !stream.destroyed) stream.respond({ ':status': 502, [HEADERS.error]: err.message }, { endStream: true });
    sock.destroy();
  };
  sock.once('error', onError);
  sock.once('connect', () => {
    sock.off('error', onError);
    if (stream.destroyed) return sock.destroy();
    stream.respond({ ':status': 200 });
    joinStreams(sock, stream);
    stream.resume();
  });
  stream.once('close', () => {
    if (sock.connecting) sock.destroy();
  });
}

