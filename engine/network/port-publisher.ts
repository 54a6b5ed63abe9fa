/**
 * The port-publishing hook: who else must hear of a container's published ports before it starts.
 * Natively nobody (berthd's own socket per port and the kernel's DNAT are the whole story). In the
 * Berth VM the host's localhost is where users connect, so berthd asks the guest agent, which asks
 * the host agent to bind the host listeners; a port taken on the host fails the start with the
 * host's answer (Docker Desktop's "Ports are not available: …"), as podman asks gvproxy.
 *
 * The guest agent is reached on a unix socket with one JSON line each way per call (no HTTP: this
 * is not an API route, and a line is all it takes).
 */
import net from 'node:net';
import { SystemError, messageOf } from '../errdefs.js';
import type { Logger } from '../daemon/log.js';
import type { HeldPort, PortRequest } from './ports.js';

/** The host refused a port (taken, not permitted): the message is the one to show the user. */
export class PortUnavailableError extends Error {}

export interface PortPublisher {
  /** Before the container starts; rejects with PortUnavailableError when a port cannot be had. */
  publish(container: string, ports: HeldPort[]): Promise<void>;
  /** When the container's ports are given back; never rejects. */
  unpublish(container: string, ports: HeldPort[]): Promise<void>;
}

export const noPortPublisher: PortPublisher = {
  publish: async () => undefined,
  unpublish: async () => undefined,
};

/**
 * Tells the publisher of a port just reserved for `req`, before the container starts. A port it
 * refuses fails the start with its message (Docker Desktop's); for -P and ranges another port is
 * reserved and offered, since the host side must get the number the engine reports.
 */
export async function publishReserved(
  ports: { reserve(r: PortRequest): Promise<HeldPort>; release(h: HeldPort): void },
  publisher: PortPublisher,
  container: string,
  req: PortRequest,
  held: HeldPort,
  attempts = 20,
): Promise<HeldPort> {
  const exact = req.hostPortStart !== 0 && req.hostPortStart === req.hostPortEnd;
  for (let attempt = 1; ; attempt++) {
    try {
      await publisher.publish(container, [held]);
      return held;
    } catch (err) {
      ports.release(held);
      if (!(err instanceof PortUnavailableError)) throw new SystemError(`failed to publish port ${held.hostIp}:${held.hostPort}/${held.proto}: ${messageOf(err)}`);
      if (exact || attempt >= attempts) throw new SystemError(err.message);
    }
    held = await ports.reserve(req);
  }
}

export interface PublisherRequest {
  op: 'publish' | 'unpublish';
  container: string;
  ports: HeldPort[];
}

export interface PublisherReply {
  ok?: boolean;
  /** Set when the port is refused: the user-facing message. */
  unavailable?: string;
  error?: string;
}

/** The guest agent's end, on a unix socket (BERTH_PORT_PUBLISHER in the VM). */
export class SocketPortPublisher implements PortPublisher {
  constructor(
    readonly socketPath: string,
    private readonly log: Logger,
    private readonly timeoutMs = 15_000,
  ) {}

  async publish(container: string, ports: HeldPort[]): Promise<void> {
    if (ports.length === 0) return;
    let reply: PublisherReply;
    try {
      reply = await this.call({ op: 'publish', container, ports });
    } catch (err) {
      // The agent is restarting or not there yet: the host side reconciles from the container list.
      this.log.warn('port publisher unreachable; the host reconciles later', { socket: this.socketPath, err: messageOf(err) });
      return;
    }
    if (reply.unavailable) throw new PortUnavailableError(reply.unavailable);
    if (reply.error) this.log.warn('port publisher', { err: reply.error });
  }

  async unpublish(container: string, ports: HeldPort[]): Promise<void> {
    if (ports.length === 0) return;
    try {
      const reply = await this.call({ op: 'unpublish', container, ports });
      if (reply.error) this.log.warn('port publisher', { err: reply.error });
    } catch (err) {
      this.log.warn('port publisher unreachable; the host reconciles later', { socket: this.socketPath, err: messageOf(err) });
    }
  }

  private call(req: PublisherRequest): Promise<PublisherReply> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(this.socketPath);
      let buf = '';
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        sock.end();
        try {
          resolve(JSON.parse(buf.slice(0, nl)) as PublisherReply);
        } catch (err) {
          reject(err as Error);
        }
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      sock.once('close', () => {
        clearTimeout(timer);
        reject(new Error('the port publisher closed the connection without an answer'));
      });
      sock.write(JSON.stringify(req) + '\n');
    });
  }
}
