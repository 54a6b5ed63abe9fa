/**
 * The byte stream HTTP/2 runs on, on both ends of the agent channel: it reads its socket (or the
 * port) all the time, whatever HTTP/2 is doing. Node's HTTP/2 stops reading while one of its own
 * writes is in progress; when both ends send at once (an echo, `docker exec -i` fed and draining
 * large data) both writes block on full socket buffers and neither reads again — a deadlock this
 * layer removes. Memory stays bounded: the peer may never send more than the HTTP/2 flow-control
 * windows this end advertised (channel/protocol.ts), so the buffer here cannot outgrow them.
 */
import { Duplex } from 'node:stream';

export class EagerDuplex extends Duplex {
  constructor(
    private readonly src: Duplex,
    first?: Buffer,
  ) {
    super({ allowHalfOpen: false, readableHighWaterMark: 1 << 20, writableHighWaterMark: 256 * 1024 });
    if (first?.length) this.push(first);
    src.on('data', (d: Buffer) => void this.push(d));
    src.once('end', () => this.push(null));
    src.once('error', (err) => this.destroy(err));
    src.once('close', () => this.destroy());
    src.resume();
  }

  override _read(): void {
    // Reading never stops (see above): nothing to resume.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.src.write(chunk, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.src.write(Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.src.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.src.destroy();
    cb(err);
  }
}
