/**
 * Docker's stdcopy framing for non-TTY streams: an 8-byte header
 * [stream, 0, 0, 0, size uint32 BE] before each payload.
 */
export const enum StreamType {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
}

export const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

export function frame(stream: StreamType, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out[0] = stream;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, 8);
  return out;
}

/** Parses frames back into (stream, payload) pairs; used by tests and the desktop backend. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, onFrame: (stream: number, payload: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      onFrame(this.buf[0]!, this.buf.subarray(8, 8 + size));
      this.buf = this.buf.subarray(8 + size);
    }
  }
}
