/**
 * Before HTTP/2 starts on the agent channel, both ends agree where the old conversation ends.
 * A virtio-serial port keeps bytes across reconnects (a guest agent that restarted, a host that
 * reconnected), so the host sends `BERTH-HELLO <nonce>` lines until the guest answers
 * `BERTH-READY <nonce>` for the latest one; everything before that line is discarded by the host,
 * and the guest starts HTTP/2 at the client preface that follows the last hello it answered.
 * Runs on both sides (host: Node's net socket; guest: the port's file descriptor).
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';

export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const HELLO = 'BERTH-HELLO ';
const READY = 'BERTH-READY ';
const MAX_JUNK = 1 << 20;

export class HandshakeError extends Error {}

/**
 * Host side: repeats the hello every `intervalMs` (the guest may not be listening yet) until the
 * guest answers the latest one, then resolves with the bytes that followed the answer (to be
 * unshifted before HTTP/2 takes over the socket).
 */
export function hostHandshake(sock: Duplex, opts: { intervalMs?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let nonce = '';
    let buf: Buffer = Buffer.alloc(0);
    const send = () => {
      nonce = randomBytes(8).toString('hex');
      sock.write(`\n${HELLO}${nonce}\n`);
    };
    const timer = setInterval(send, opts.intervalMs ?? 500);
    const deadline = opts.timeoutMs ? setTimeout(() => finish(new HandshakeError(`the guest agent did not answer within ${Math.round(opts.timeoutMs! / 1000)} s`)), opts.timeoutMs) : undefined;
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const marker = `${READY}${nonce}\n`;
      const at = buf.indexOf(marker);
      if (at >= 0) {
        finish(undefined, buf.subarray(at + marker.length));
        return;
      }
      // Keep only what could still hold the beginning of the marker.
      if (buf.length > MAX_JUNK) buf = buf.subarray(buf.length - 64);
    };
    const onEnd = () => finish(new HandshakeError('the agent channel closed during the handshake'));
    const onAbort = () => finish(new HandshakeError('handshake aborted'));
    function finish(err?: Error, rest?: Buffer) {
      clearInterval(timer);
      if (deadline) clearTimeout(deadline);
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else {
        sock.pause();
        resolve(rest ?? Buffer.alloc(0));
      }
    }
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    opts.signal?.addEventListener('abort', onAbort);
    send();
  });
}

/**
 * Guest side: a parser fed with every chunk read from the port. It answers each hello (through
 * `reply`) and returns the buffered bytes from the client preface on, once the preface follows the
 * last hello; until then it returns undefined.
 */
export class GuestHandshake {
  private buf: Buffer = Buffer.alloc(0);
  private answered = false;

  constructor(private readonly reply: (line: string) => void) {}

  feed(chunk: Buffer): Buffer | undefined {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const hello = this.buf.indexOf(HELLO);
      const preface = this.answered ? this.buf.indexOf(HTTP2_PREFACE) : -1;
      if (preface >= 0 && (hello < 0 || preface < hello)) {
        const rest = this.buf.subarray(preface);
        this.buf = Buffer.alloc(0);
        return rest;
      }
      if (hello < 0) {
        if (this.buf.length > MAX_JUNK) this.buf = this.buf.subarray(this.buf.length - 64);
        return undefined;
      }
      const eol = this.buf.indexOf('\n', hello);
      if (eol < 0) return undefined;
      const nonce = this.buf.subarray(hello + HELLO.length, eol).toString('latin1').trim();
      this.buf = this.buf.subarray(eol + 1);
      if (/^[0-9a-f]{1,64}$/.test(nonce)) {
        this.answered = true;
        this.reply(`\n${READY}${nonce}\n`);
      }
    }
  }
}
