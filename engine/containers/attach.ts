/**
 * Attaching a client to a container or exec session. Output is read from the
 * session's log file (so a slow client never blocks the container and the
 * daemon's memory stays bounded); input goes to the monitor's attach socket.
 */
import { InvalidParameterError } from '../errdefs.js';
import { SeqpacketClient } from '../system/seqpacket.js';
import { liveLogSize, readLogs } from './logs.js';
import type { ClientStreams } from './streams.js';

/** The monitor reads at most 32 KiB per packet; stay well under. */
const MAX_PACKET = 16 * 1024;

/**
 * A connection to a monitor's attach socket, used only to feed stdin. It is
 * shared by every client attached to the session and kept open across
 * detaches: closing it is how the monitor learns to close the process's
 * stdin. Input that arrives before the process runs (`echo x | docker run -i`)
 * is queued until the session is activated.
 */
export class StdinChannel {
  private socket: SeqpacketClient | undefined;
  private state: 'waiting' | 'connecting' | 'open' | 'closed' = 'waiting';
  private queue: Buffer[] = [];
  private queued = 0;
  private closeRequested = false;
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly socketPath: string) {}

  /** Connects once the monitor is up; flushes queued input. Returns false if the socket is gone. */
  async activate(): Promise<boolean> {
    if (this.state === 'open') return true;
    if (this.state !== 'waiting') return false;
    this.state = 'connecting';
    const s = await SeqpacketClient.connect(this.socketPath).catch(() => undefined);
    if (!s) {
      this.state = 'closed';
      this.queue = [];
      return false;
    }
    this.socket = s;
    this.state = 'open';
    const pending = this.queue;
    this.queue = [];
    this.queued = 0;
    for (const b of pending) this.send(b);
    if (this.closeRequested) this.close();
    return true;
  }

  private send(data: Buffer): void {
    const s = this.socket;
    if (!s) return;
    this.sending = this.sending.then(async () => {
      for (let off = 0; off < data.length; off += MAX_PACKET) {
        const part = data.subarray(off, Math.min(off + MAX_PACKET, data.length));
        // A monitor that went away ends this channel's input; nothing more can be delivered.
        if (!(await s.send(part).then(() => true, () => false))) return;
      }
    });
  }

  write(data: Buffer): void {
    if (this.state === 'open') this.send(Buffer.from(data));
    else if ((this.state === 'waiting' || this.state === 'connecting') && this.queued < 8 * 1024 * 1024) {
      this.queue.push(Buffer.from(data));
      this.queued += data.length;
    }
  }

  /** Closes the connection once queued input is sent; the monitor then closes the process's stdin. */
  close(): void {
    if (this.state === 'waiting' || this.state === 'connecting') {
      this.closeRequested = true;
      return;
    }
    if (this.state === 'closed') return;
    this.state = 'closed';
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      void this.sending.then(() => s.close());
    }
  }
}

/** Parses Docker's detach-keys syntax ("ctrl-p,ctrl-q", "a,ctrl-@"). */
export function parseDetachKeys(spec: string | undefined): Buffer {
  const s = spec === undefined || spec === '' ? 'ctrl-p,ctrl-q' : spec;
  const out: number[] = [];
  for (const key of s.split(',')) {
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(key);
    if (!m) throw new InvalidParameterError(`Invalid detach keys (${s}) provided`);
    const ch = m[1]!;
    const code = ch === '@' ? 0 : ch === '[' ? 27 : ch === '\\' ? 28 : ch === ']' ? 29 : ch === '^' ? 30 : ch === '_' ? 31 : /[a-z]/.test(ch) ? ch.charCodeAt(0) - 96 : -1;
    if (code < 0) throw new InvalidParameterError(`Invalid detach keys (${s}) provided`);
    out.push(code);
  }
  return Buffer.from(out);
}

export interface AttachTarget {
  logPath: string;
  maxLogFiles: number;
  /** Detach keys only apply on a terminal. */
  tty: boolean;
  /** Present when the process has an open stdin. */
  stdin: StdinChannel | undefined;
  /** Close the process's stdin when this client's input ends (StdinOnce). */
  closeStdinOnEof: boolean;
  /** Resolves when no more output will come (process exited and its output was written). */
  stopped: Promise<void>;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Replay earlier output first. */
  logs: boolean;
  /** Keep streaming until the process stops. */
  stream: boolean;
  detachKeys: Buffer;
}

/**
 * Runs an attach session until the process stops, the client detaches, or
 * the client goes away. Ends the client's connection when done.
 */
export async function runAttach(target: AttachTarget, client: ClientStreams, opts: AttachOptions): Promise<'stopped' | 'detached' | 'gone'> {
  const abort = new AbortController();
  const writer = client.output;
  const st: { outcome: 'stopped' | 'detached' | 'gone' } = { outcome: 'stopped' };
  let detachResolve!: () => void;
  const detached = new Promise<void>((r) => (detachResolve = r));
  void client.closed.then(() => {
    if (st.outcome === 'stopped') st.outcome = 'gone';
    abort.abort();
  });

  // Output starts where the log ends now, before any input can make the process answer.
  const startOffset = opts.logs ? undefined : liveLogSize(target.logPath);

  // Input: forward until EOF or the detach sequence.
  if (opts.stdin && target.stdin) {
    const channel = target.stdin;
    const keys = opts.detachKeys;
    let matched = 0;
    const input = client.input;
    input.on('data', (chunk: Buffer) => {
      if (st.outcome !== 'stopped') return;
      // Detach keys only make sense on a terminal (Docker ignores them otherwise too).
      if (target.tty && keys.length > 0) {
        const pass: number[] = [];
        for (const b of chunk) {
          if (b === keys[matched]) {
            matched++;
            if (matched === keys.length) {
              st.outcome = 'detached';
              detachResolve();
              abort.abort();
              return;
            }
            continue;
          }
          // A partial match that failed is ordinary input after all.
          for (let i = 0; i < matched; i++) pass.push(keys[i]!);
          matched = 0;
          pass.push(b);
        }
        if (pass.length > 0) channel.write(Buffer.from(pass));
      } else {
        channel.write(chunk);
      }
    });
    input.once('end', () => {
      if (st.outcome === 'stopped' && target.closeStdinOnEof) channel.close();
    });
    input.on('error', () => undefined);
  } else {
    // Discard whatever the client sends (dockerode writes a chunked terminator).
    client.input.on('data', () => undefined);
    client.input.on('error', () => undefined);
  }
  // A 'data' listener does not restart a stream that was paused explicitly: start the flow
  // whatever state the caller left the input in, or typed input would wait unread forever.
  client.input.resume();

  if (opts.stdout || opts.stderr) {
    const reading = readLogs(
      target.logPath,
      target.maxLogFiles,
      { stdout: opts.stdout, stderr: opts.stderr, follow: opts.stream, ...(startOffset !== undefined ? { startOffset } : {}) },
      (e) => writer.writeLine(e.stream, e.content, !e.partial),
      { stopped: target.stopped, signal: abort.signal },
    );
    await Promise.race([reading, detached]);
  } else if (opts.stream) {
    await Promise.race([target.stopped, detached, client.closed]);
  }
  await writer.flush();
  if (st.outcome !== 'gone') client.end();
  return st.outcome;
}
