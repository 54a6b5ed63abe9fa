/**
 * Joins a byte stream (a socket) to an HTTP/2 stream with TCP's semantics: data both ways with
 * backpressure (pipe), half-close carried as END_STREAM / FIN (`docker run -i` closing stdin, the
 * engine closing its output), and an abort on either side aborting the other (RST_STREAM / reset).
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';

export function joinStreams(sock: Duplex, stream: http2.Http2Stream): void {
  let done = false;
  const abort = (why: 'socket' | 'stream') => {
    if (done) return;
    done = true;
    if (why === 'socket') {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    } else if (!sock.destroyed) sock.destroy();
  };
  sock.pipe(stream);
  stream.pipe(sock);
  sock.on('error', () => abort('socket'));
  stream.on('error', () => abort('stream'));
  sock.on('close', () => {
    // A socket that closed before both directions finished was reset or destroyed.
    if (!stream.destroyed && !(stream.writableFinished && stream.readableEnded)) abort('socket');
  });
  stream.on('close', () => {
    // This end sends END_STREAM only after the socket's FIN, so a stream that closed before the
    // socket ended was reset by the peer (RST_STREAM, whatever its code: a plain close() sends
    // NO_ERROR, and Node then reports both directions as ended): reset the socket too, as TCP would.
    const clean = sock.readableEnded && (stream.rstCode === undefined || stream.rstCode === http2.constants.NGHTTP2_NO_ERROR);
    if (!clean) abort('stream');
    else if (!sock.destroyed && !sock.writableEnded) sock.end();
  });
}
