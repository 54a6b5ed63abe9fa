/**
 * Linux capabilities: Docker's default set, the full list, and --cap-add /
 * --cap-drop resolution with Docker's validation messages.
 */
import fs from 'node:fs';
import { InvalidParameterError } from '../errdefs.js';

export const allCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Docker's default bounding set (CapEff 00000000a80425fb). */
export const defaultCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const known = new Set<string>(allCapabilities);

let bounding: string[] | undefined;

/**
 * The capabilities berthd itself holds (its bounding set): what --privileged
 * grants, as Docker does. A container cannot get a capability its engine lacks.
 */
export function engineCapabilities(): string[] {
  if (bounding) return bounding;
  let mask = (1n << BigInt(allCapabilities.length)) - 1n;
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) mask = BigInt(`0x${m[1]}`);
  } catch {
    /* not Linux: assume all */
  }
  bounding = allCapabilities.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  return bounding;
}

export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  return upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** Resolves the capability set from --cap-add/--cap-drop the way moby's TweakCapabilities does. */
export function resolveCapabilities(add: readonly string[] | null | undefined, drop: readonly string[] | null | undefined, privileged: boolean): string[] {
  if (privileged) return [...engineCapabilities()];
  const adds = (add ?? []).map(normalizeCapability);
  const drops = (drop ?? []).map(normalizeCapability);
  for (const c of [...adds, ...drops]) {
    if (c !== 'ALL' && !known.has(c)) throw new InvalidParameterError(`unknown capability: "${c}"`);
  }
  if (adds.includes('ALL')) {
    const set = new Set<string>(engineCapabilities());
    for (const d of drops) if (d !== 'ALL') set.delete(d);
    return [...set];
  }
  const base = drops.includes('ALL') ? [] : defaultCapabilities.filter((c) => !drops.includes(c));
  const set = new Set(base);
  for (const a of adds) set.add(a);
  return [...set];
}
