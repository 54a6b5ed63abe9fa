/**
 * A QMP client (QEMU's JSON control protocol) on the VM's control socket: capabilities
 * negotiation, commands matched to their replies, events (SHUTDOWN, STOP, RESUME, GUEST_PANICKED)
 * to listeners. Used for status (`query-status`), graceful stop (`system_powerdown`) and quit.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends Error {
  constructor(
    message: string,
    readonly errorClass?: string,
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class QmpClient extends EventEmitter {
  private buf = '';
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private greeted: Promise<void>;
  private closed = false;

  private constructor(private readonly sock: net.Socket) {
    super();
    let onGreeting!: () => void;
    let onFail!: (e: Error) => void;
    this.greeted = new Promise<void>((resolve, reject) => {
      onGreeting = resolve;
      onFail = reject;
    });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if ('QMP' in msg) onGreeting();
        else if ('event' in msg) this.emit('event', msg as unknown as QmpEvent);
        else if ('id' in msg) {
          const p = this.pending.get(msg.id as number);
          if (!p) continue;
          this.pending.delete(msg.id as number);
          if ('error' in msg) {
            const e = msg.error as { class?: string; desc?: string };
            p.reject(new QmpError(e.desc ?? 'QMP error', e.class));
          } else p.resolve(msg.return);
        }
      }
    });
    const onClose = () => {
      if (this.closed) return;
      this.closed = true;
      const err = new QmpError('the QMP connection closed');
      onFail(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.emit('close');
    };
    sock.on('close', onClose);
    sock.on('error', () => undefined);
  }

  /** Connects and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const sock = net.connect(path);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        sock.destroy();
        reject(new QmpError(`QMP on ${path} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      sock.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
    const c = new QmpClient(sock);
    await withTimeout(c.greeted, timeoutMs, `QMP on ${path} sent no greeting`);
    await c.execute('qmp_capabilities');
    return c;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new QmpError('the QMP connection is closed'));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  /** A human monitor command; its errors come back as text, not as QMP errors. */
  async hmp(commandLine: string): Promise<string> {
    return this.execute<string>('human-monitor-command', { 'command-line': commandLine });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p.finally(() => clearTimeout(t)), new Promise<T>((_, reject) => (t = setTimeout(() => reject(new QmpError(message)), ms)))]);
}
