/**
 * QMP `system_powerdown` presses the VM's power button: an ACPI button on x86 (q35), a GPIO key on
 * arm64 (virt). Without systemd or acpid in the guest, the agent reads the input device itself and
 * shuts down cleanly on KEY_POWER.
 */
import fs from 'node:fs';
import path from 'node:path';

const EV_KEY = 1;
const KEY_POWER = 116;
/** struct input_event on 64-bit Linux: struct timeval (16 bytes), u16 type, u16 code, s32 value. */
const EVENT_SIZE = 24;

export function findPowerButtons(sysInput = '/sys/class/input'): string[] {
  const found: string[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(sysInput).filter((n) => n.startsWith('event'));
  } catch {
    return found;
  }
  for (const n of names) {
    try {
      const name = fs.readFileSync(path.join(sysInput, n, 'device', 'name'), 'utf8').trim();
      if (/power button|gpio-keys/i.test(name)) found.push(`/dev/input/${n}`);
    } catch {
      // Device went away.
    }
  }
  return found;
}

/** Parses input events; calls onPower for each KEY_POWER press. */
export function parseInputEvents(buf: Buffer, onPower: () => void): Buffer {
  let off = 0;
  for (; off + EVENT_SIZE <= buf.length; off += EVENT_SIZE) {
    const type = buf.readUInt16LE(off + 16);
    const code = buf.readUInt16LE(off + 18);
    const value = buf.readInt32LE(off + 20);
    if (type === EV_KEY && code === KEY_POWER && value === 1) onPower();
  }
  return buf.subarray(off);
}

export function watchPowerButton(onPower: () => void, log: (m: string) => void): void {
  const devices = findPowerButtons();
  if (!devices.length) log('no power button device: system_powerdown will not reach the guest');
  for (const dev of devices) {
    let rest: Buffer = Buffer.alloc(0);
    const s = fs.createReadStream(dev, { highWaterMark: EVENT_SIZE * 16 });
    s.on('data', (chunk) => {
      rest = parseInputEvents(Buffer.concat([rest, chunk as Buffer]), onPower);
    });
    s.on('error', (err) => log(`${dev}: ${err.message}`));
  }
}
