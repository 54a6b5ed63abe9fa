/** Raw HTTP upgrades over berthd's unix socket, for tests that drive the hijacked stream byte by byte. */
import net from 'node:net';
import type { Berthd } from './berthd.js';

/**
 * Writes `head` (a whole request) on a new connection and resolves with the socket after the
 * response head. `later` is written `afterMs` later, as a client that sends its body after the
 * headers (the docker CLI does) would.
 */
export function rawHijack(d: Berthd, head: string, later?: { data: string; afterMs: number }): Promise<{ sock: net.Socket; head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(d.socket);
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      resolve({ sock, head: buf.subarray(0, end).toString(), rest: buf.subarray(end + 4) });
    };
    sock.on('data', onData);
    sock.on('error', reject);
    sock.write(head);
    if (later) setTimeout(() => sock.write(later.data), later.afterMs);
  });
}
