/**
 * berthd's port-publishing hook, against a fake reserver and publisher: an exact port the
 * publisher refuses fails with its message and is given back; -P (an ephemeral request) is
 * offered another port until one is accepted, so the host gets the number the engine reports.
 */
import { describe, expect, it } from 'vitest';
import { SystemError } from '../errdefs.js';
import { PortUnavailableError, noPortPublisher, publishReserved, type PortPublisher } from './port-publisher.js';
import type { HeldPort, PortRequest } from './ports.js';

function fakes(refused: Set<number>, next: number[]) {
  const released: number[] = [];
  const offered: number[] = [];
  const ports = {
    reserve: async (r: PortRequest): Promise<HeldPort> => ({ proto: r.proto, hostIp: r.hostIp, hostPort: next.shift()!, containerPort: r.containerPort }),
    release: (h: HeldPort) => void released.push(h.hostPort),
  };
  const publisher: PortPublisher = {
    publish: async (_c, list) => {
      for (const p of list) {
        offered.push(p.hostPort);
        if (refused.has(p.hostPort)) throw new PortUnavailableError(`Ports are not available: exposing port TCP 0.0.0.0:${p.hostPort} -> 0.0.0.0:0: listen tcp 0.0.0.0:${p.hostPort}: bind: address already in use`);
      }
    },
    unpublish: async () => undefined,
  };
  return { ports, publisher, released, offered };
}

const req = (start: number, end = start): PortRequest => ({ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPortStart: start, hostPortEnd: end });
const held = (port: number): HeldPort => ({ proto: 'tcp', hostIp: '0.0.0.0', hostPort: port, containerPort: 80 });

describe('publishReserved', () => {
  it("fails an exact port the host refuses with the host's message, and gives it back", async () => {
    const f = fakes(new Set([8080]), []);
    const err = await publishReserved(f.ports, f.publisher, 'c', req(8080), held(8080)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SystemError);
    expect((err as Error).message).toBe('Ports are not available: exposing port TCP 0.0.0.0:8080 -> 0.0.0.0:0: listen tcp 0.0.0.0:8080: bind: address already in use');
    expect(f.released).toEqual([8080]);
  });

  it('offers -P another port until the host takes one', async () => {
    const f = fakes(new Set([40000, 40001]), [40001, 40002]);
    expect(await publishReserved(f.ports, f.publisher, 'c', req(0, 0), held(40000))).toEqual(held(40002));
    expect(f.offered).toEqual([40000, 40001, 40002]);
    expect(f.released).toEqual([40000, 40001]);
  });

  it('gives up after a bounded number of tries', async () => {
    const f = fakes(new Set([1, 2, 3]), [2, 3]);
    await expect(publishReserved(f.ports, f.publisher, 'c', req(1, 3), held(1), 3)).rejects.toThrow(/listen tcp 0.0.0.0:3/);
  });

  it('natively publishes nothing and never refuses', async () => {
    const f = fakes(new Set(), []);
    expect(await publishReserved(f.ports, noPortPublisher, 'c', req(8080), held(8080))).toEqual(held(8080));
    expect(f.released).toEqual([]);
  });
});
