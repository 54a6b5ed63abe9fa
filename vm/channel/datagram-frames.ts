/**
 * Datagrams over a byte stream (the channel's UDP streams): each one framed as a 16-bit big-endian
 * length and its payload, so boundaries survive the stream (a UDP payload is at most 65,507 bytes).
 */
export function encodeFrame(payload: Buffer): Buffer {
  if (payload.length > 0xffff) throw new Error(`datagram too large (${payload.length} bytes)`);
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/** Splits a stream's chunks back into datagrams, whatever the chunking. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 2) {
      const n = buf.readUInt16BE(0);
      if (buf.length < 2 + n) break;
      this.onFrame(buf.subarray(2, 2 + n));
      buf = buf.subarray(2 + n);
    }
    this.pending = Buffer.from(buf);
  }
}
