/**
 * Which accelerator runs the VM: hvf on macOS, whpx on Windows, kvm on Linux — each only for a
 * guest of the host's own architecture — and tcg (software emulation) otherwise. The list is
 * filtered by what the QEMU binary was built with (`-accel help`), then each candidate is
 * *tried* by booting the guest with it (see VmMachine): a /dev/kvm that opens can still hang a
 * guest on this machine kind, so the device node proves nothing. An accelerator that failed is
 * remembered (per QEMU version and host kernel) so the next start goes straight to one that works.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Accelerator, GuestArch } from './qemu-args.js';

export interface CandidateInput {
  platform: NodeJS.Platform;
  hostArch: GuestArch | undefined;
  guestArch: GuestArch;
  /** Accelerators the QEMU binary has (parsed `-accel help`); undefined when unknown. */
  available: ReadonlySet<string> | undefined;
  /** BERTH_VM_ACCEL: use only this one. */
  forced?: string | undefined;
  /** Accelerators that failed before with this QEMU on this host (skipped, with a note). */
  knownBad?: ReadonlyMap<string, string>;
}

export interface CandidateList {
  candidates: Accelerator[];
  /** Why each accelerator is or is not in the list, for the log and `berth vm status`. */
  notes: string[];
}

const NATIVE: Partial<Record<NodeJS.Platform, Accelerator>> = { darwin: 'hvf', win32: 'whpx', linux: 'kvm' };
const ALL: Accelerator[] = ['hvf', 'whpx', 'kvm', 'tcg'];

/** Accelerator names from `qemu-system-* -accel help`. */
export function parseAccelHelp(output: string): Set<string> {
  const names = new Set<string>();
  for (const line of output.split('\n')) {
    const t = line.trim();
    if (/^[a-z][a-z0-9-]*$/.test(t)) names.add(t);
  }
  return names;
}

export function acceleratorCandidates(i: CandidateInput): CandidateList {
  const notes: string[] = [];
  const has = (a: string) => !i.available || i.available.has(a);
  if (i.forced) {
    if (!ALL.includes(i.forced as Accelerator)) throw new Error(`BERTH_VM_ACCEL=${i.forced}: not one of ${ALL.join(', ')}`);
    if (!has(i.forced)) throw new Error(`BERTH_VM_ACCEL=${i.forced}: this QEMU was built without ${i.forced} (it has ${[...(i.available ?? [])].join(', ')})`);
    notes.push(`${i.forced}: chosen by BERTH_VM_ACCEL`);
    return { candidates: [i.forced as Accelerator], notes };
  }
  const candidates: Accelerator[] = [];
  const native = NATIVE[i.platform];
  if (!native) notes.push(`no hardware accelerator is known for ${i.platform}`);
  else if (i.hostArch !== i.guestArch) notes.push(`${native}: not usable, the guest is ${i.guestArch} and the host is ${i.hostArch ?? 'another architecture'}`);
  else if (!has(native)) notes.push(`${native}: this QEMU was built without it`);
  else if (i.knownBad?.has(native)) notes.push(`${native}: skipped, it failed before with this QEMU on this host (${i.knownBad.get(native)})`);
  else {
    candidates.push(native);
    notes.push(`${native}: ${i.guestArch} guest on a ${i.hostArch} ${i.platform} host, will be tried first`);
  }
  if (!has('tcg')) notes.push('tcg: this QEMU was built without it');
  else {
    candidates.push('tcg');
    notes.push(candidates.length === 1 ? 'tcg: software emulation (slow: no hardware accelerator to use)' : 'tcg: the fallback');
  }
  if (!candidates.length) throw new Error(`no accelerator can run a ${i.guestArch} guest with this QEMU: ${notes.join('; ')}`);
  return { candidates, notes };
}

export interface AttemptFailure {
  accelerator: Accelerator;
  reason: string;
}

/** Raised by an attempt that failed in a way the next accelerator may avoid. */
export class AcceleratorFailed extends Error {
  constructor(
    readonly accelerator: Accelerator,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * Tries each candidate in order; the first attempt that resolves wins. An attempt that throws
 * AcceleratorFailed moves on to the next candidate; any other error stops the search.
 */
export async function firstWorking<T>(candidates: Accelerator[], attempt: (a: Accelerator) => Promise<T>, onFailure?: (f: AttemptFailure) => void): Promise<{ accelerator: Accelerator; result: T; failures: AttemptFailure[] }> {
  const failures: AttemptFailure[] = [];
  for (const a of candidates) {
    try {
      return { accelerator: a, result: await attempt(a), failures };
    } catch (err) {
      if (!(err instanceof AcceleratorFailed) || a === candidates.at(-1)) throw err;
      const f = { accelerator: a, reason: err.message };
      failures.push(f);
      onFailure?.(f);
    }
  }
  throw new Error('no accelerator to try');
}

/** Failed accelerators, per QEMU binary/version and host kernel, in a small JSON file. */
export class AcceleratorVerdicts {
  constructor(
    private readonly file: string,
    private readonly key: string,
  ) {}

  private read(): Record<string, Record<string, string>> {
    try {
      const v = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
      return v && typeof v === 'object' ? (v as Record<string, Record<string, string>>) : {};
    } catch {
      return {};
    }
  }

  knownBad(): Map<string, string> {
    return new Map(Object.entries(this.read()[this.key] ?? {}));
  }

  remember(f: AttemptFailure): void {
    const all = this.read();
    all[this.key] = { ...(all[this.key] ?? {}), [f.accelerator]: f.reason };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all, null, 2));
    fs.renameSync(tmp, this.file);
  }
}
