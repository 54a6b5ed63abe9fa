import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPortDevice } from './port.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A stand-in for /sys/class/virtio-ports: one folder per port with its QEMU name. */
function sysfs(ports: Record<string, string>): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vports-'));
  for (const [d, name] of Object.entries(ports)) {
    fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, d, 'name'), `${name}\n`);
  }
  return dir;
}

describe('findPortDevice', () => {
  it('finds the port by its name (there is no udev to make /dev/virtio-ports links)', () => {
    const sys = sysfs({ vport0p1: 'org.qemu.guest_agent.0', vport1p1: 'org.berth.agent.0' });
    expect(findPortDevice('org.berth.agent.0', sys)).toBe('/dev/vport1p1');
  });

  it('is undefined while the port is not there yet', () => {
    expect(findPortDevice('org.berth.agent.0', sysfs({ vport0p1: 'other' }))).toBeUndefined();
    expect(findPortDevice('org.berth.agent.0', '/nonexistent/virtio-ports')).toBeUndefined();
  });
});
