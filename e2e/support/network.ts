/**
 * Networking for test daemons. Several berthd instances run at once (test
 * workers, other engineers' runs), so each gets its own default bridge name,
 * subnet and address pool — a "slot" claimed with a lock file — and its
 * bridges and iptables chains are removed when it is destroyed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chainNames, jumps, ownChains } from '../../engine/network/firewall.js';

const SLOT_DIR = '/run/berth-e2e-slots';
const SLOTS = 1024;

export interface NetSlot {
  index: number;
  bridge: string;
  /** daemon.json keys for this slot. */
  config: { bridge: string; bip: string; 'default-address-pools': Array<{ base: string; size: number }> };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Each slot owns 10.A.B.0/20 (A in 64..127): the default bridge takes the first /24, user networks the rest. */
function slotConfig(n: number): NetSlot {
  const a = 64 + (n >> 4);
  const b = (n & 15) << 4;
  const bridge = `bte${n}`;
  return { index: n, bridge, config: { bridge, bip: `10.${a}.${b}.1/24`, 'default-address-pools': [{ base: `10.${a}.${b}.0/20`, size: 24 }] } };
}

export function claimNetSlot(seed: number): NetSlot {
  fs.mkdirSync(SLOT_DIR, { recursive: true });
  for (let i = 0; i < SLOTS; i++) {
    const n = (seed + i) % SLOTS;
    const file = path.join(SLOT_DIR, String(n));
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return slotConfig(n);
    } catch {
      // Taken: reclaim it when its owner is gone (a crashed run).
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (owner > 0 && !alive(owner)) {
        fs.rmSync(file, { force: true });
        try {
          fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
          return slotConfig(n);
        } catch {
          /* someone else won the race */
        }
      }
    }
  }
  throw new Error('no free network slot for a test daemon');
}

export function releaseNetSlot(slot: NetSlot): void {
  fs.rmSync(path.join(SLOT_DIR, String(slot.index)), { force: true });
}

function quiet(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Removes what a stopped test daemon leaves by design (its bridges and chains stay for live restore). */
export function cleanupDaemonNetwork(defaultBridge: string, dataRoot: string): void {
  const bridges = [defaultBridge];
  try {
    const records = JSON.parse(fs.readFileSync(path.join(dataRoot, 'network', 'networks.json'), 'utf8')) as Array<{ Name: string; Id: string; Driver: string; Options?: Record<string, string> }>;
    for (const r of records) {
      if (r.Driver !== 'bridge' || r.Name === 'bridge') continue;
      bridges.push(r.Options?.['com.docker.network.bridge.name'] || `br-${r.Id.slice(0, 12)}`);
    }
  } catch {
    /* no records */
  }
  for (const b of bridges) if (fs.existsSync(`/sys/class/net/${b}`)) quiet('ip', ['link', 'del', 'dev', b]);
  const c = chainNames(defaultBridge);
  // Both families: dual-stack bridges and IPv6 ports have ip6tables chains of the same names.
  for (const [family, tool] of [
    [4, 'iptables'],
    [6, 'ip6tables'],
  ] as const) {
    for (const j of jumps(c, family)) while (quiet(tool, ['-w', '-t', j.table, '-D', j.chain, ...j.spec]));
    for (const [table, chain] of ownChains(c)) {
      quiet(tool, ['-w', '-t', table, '-F', chain]);
      quiet(tool, ['-w', '-t', table, '-X', chain]);
    }
  }
}
