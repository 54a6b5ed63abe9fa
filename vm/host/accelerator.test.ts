import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AcceleratorFailed, AcceleratorVerdicts, acceleratorCandidates, firstWorking, parseAccelHelp } from './accelerator.js';

const all = new Set(['tcg', 'kvm', 'hvf', 'whpx']);

describe('acceleratorCandidates', () => {
  it('macOS on Apple Silicon: hvf for an arm64 guest, tcg as the fallback', () => {
    const r = acceleratorCandidates({ platform: 'darwin', hostArch: 'arm64', guestArch: 'arm64', available: new Set(['tcg', 'hvf']) });
    expect(r.candidates).toEqual(['hvf', 'tcg']);
    expect(r.notes[0]).toMatch(/hvf: arm64 guest on a arm64 darwin host/);
  });

  it('macOS on Apple Silicon: an amd64 guest can only run under tcg, and says why', () => {
    const r = acceleratorCandidates({ platform: 'darwin', hostArch: 'arm64', guestArch: 'amd64', available: all });
    expect(r.candidates).toEqual(['tcg']);
    expect(r.notes.join('\n')).toMatch(/hvf: not usable, the guest is amd64 and the host is arm64/);
  });

  it('Windows: whpx, then tcg', () => {
    expect(acceleratorCandidates({ platform: 'win32', hostArch: 'amd64', guestArch: 'amd64', available: all }).candidates).toEqual(['whpx', 'tcg']);
  });

  it('Linux: kvm, then tcg; a QEMU without kvm gives tcg only', () => {
    expect(acceleratorCandidates({ platform: 'linux', hostArch: 'amd64', guestArch: 'amd64', available: all }).candidates).toEqual(['kvm', 'tcg']);
    const r = acceleratorCandidates({ platform: 'linux', hostArch: 'amd64', guestArch: 'amd64', available: new Set(['tcg']) });
    expect(r.candidates).toEqual(['tcg']);
    expect(r.notes[0]).toBe('kvm: this QEMU was built without it');
  });

  it('Linux: arm64 guest on an amd64 host is tcg', () => {
    expect(acceleratorCandidates({ platform: 'linux', hostArch: 'amd64', guestArch: 'arm64', available: all }).candidates).toEqual(['tcg']);
  });

  it('skips an accelerator that failed before with this QEMU on this host', () => {
    const r = acceleratorCandidates({ platform: 'linux', hostArch: 'amd64', guestArch: 'amd64', available: all, knownBad: new Map([['kvm', 'the guest showed no sign of life within 10 s']]) });
    expect(r.candidates).toEqual(['tcg']);
    expect(r.notes[0]).toMatch(/kvm: skipped, it failed before .*no sign of life/);
  });

  it('BERTH_VM_ACCEL forces one, and refuses one QEMU lacks', () => {
    expect(acceleratorCandidates({ platform: 'linux', hostArch: 'amd64', guestArch: 'amd64', available: all, forced: 'tcg' }).candidates).toEqual(['tcg']);
    expect(() => acceleratorCandidates({ platform: 'linux', hostArch: 'amd64', guestArch: 'amd64', available: new Set(['tcg']), forced: 'kvm' })).toThrow(/built without kvm/);
    expect(() => acceleratorCandidates({ platform: 'linux', hostArch: 'amd64', guestArch: 'amd64', available: all, forced: 'xen' })).toThrow(/not one of/);
  });

  it('fails clearly when nothing can run the guest', () => {
    expect(() => acceleratorCandidates({ platform: 'linux', hostArch: 'amd64', guestArch: 'arm64', available: new Set(['kvm']) })).toThrow(/no accelerator can run a arm64 guest/);
  });
});

describe('parseAccelHelp', () => {
  it('reads the names QEMU lists', () => {
    expect([...parseAccelHelp('Accelerators supported in QEMU binary:\ntcg\nkvm\n')].sort()).toEqual(['kvm', 'tcg']);
  });
});

describe('firstWorking', () => {
  it('moves on after an AcceleratorFailed and reports it', async () => {
    const failures: string[] = [];
    const r = await firstWorking(
      ['kvm', 'tcg'],
      async (a) => {
        if (a === 'kvm') throw new AcceleratorFailed('kvm', 'hung');
        return 'booted';
      },
      (f) => failures.push(`${f.accelerator}: ${f.reason}`),
    );
    expect(r).toMatchObject({ accelerator: 'tcg', result: 'booted' });
    expect(failures).toEqual(['kvm: hung']);
  });

  it('stops at an error that is not about the accelerator', async () => {
    await expect(firstWorking(['kvm', 'tcg'], async () => Promise.reject(new Error('no image')))).rejects.toThrow('no image');
  });

  it('the last candidate failing is the error', async () => {
    await expect(firstWorking(['tcg'], async () => Promise.reject(new AcceleratorFailed('tcg', 'no life')))).rejects.toThrow('no life');
  });
});

describe('AcceleratorVerdicts', () => {
  it('remembers failures per key, atomically', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-verdicts-'));
    try {
      const file = path.join(dir, 'a.json');
      new AcceleratorVerdicts(file, 'qemu-7.2|linux').remember({ accelerator: 'kvm', reason: 'hung' });
      expect(new AcceleratorVerdicts(file, 'qemu-7.2|linux').knownBad().get('kvm')).toBe('hung');
      expect(new AcceleratorVerdicts(file, 'qemu-8.0|linux').knownBad().size).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
