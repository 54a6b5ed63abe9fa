/**
 * The VM engine against a fake controller (the real one spawns QEMU): boot progress with the
 * accelerator, errors with the console's tail, "restart to apply" after a settings change, the
 * reset flow (stop, delete through the controller, start again), and the two logs.
 */
import { describe, expect, it } from 'vitest';
import type { HostStatus } from '../../../vm/host/controller.js';
import type { VmStatus } from '../../../vm/host/machine.js';
import type { VmResources } from '../../../vm/host/resources.js';
import { pendingRestart, VmEngine, type VmControl } from './vm-engine.js';

const paths = { name: 'default', stateDir: '/tmp/vm-fake/state', runDir: '/tmp/vm-fake/run', dockerSocket: '/tmp/vm-fake/run/docker.sock', consoleLog: '/tmp/vm-fake/console.log' } as VmControl['paths'];

class FakeVm implements VmControl {
  readonly paths = paths;
  running: HostStatus | undefined;
  desired: VmResources = { cpus: 2, memoryMiB: 2048, diskGiB: 64, arch: 'amd64', fileSharing: 'auto', sharedFolders: [] };
  calls: string[] = [];
  failStart: (Error & { consoleTail?: string }) | undefined;

  status = async () => this.running;
  desiredResources = () => this.desired;
  start = async (onProgress?: (s: VmStatus) => void) => {
    this.calls.push('start');
    for (const step of ['Starting QEMU', 'Booting the kernel', 'Starting the engine']) onProgress?.({ state: 'starting', step, accelerator: 'tcg', acceleratorNotes: [] });
    if (this.failStart) throw this.failStart;
    this.running = { state: 'running', accelerator: 'tcg', acceleratorNotes: ['kvm: /dev/kvm is missing'], resources: { ...this.desired }, timings: { totalMs: 61_234 } } as HostStatus;
    return this.running;
  };
  stop = async () => {
    this.calls.push('stop');
    const was = this.running ? ('stopped' as const) : ('not-running' as const);
    this.running = undefined;
    return was;
  };
  reset = async () => {
    this.calls.push('reset');
    await this.stop();
  };
  consoleLog = (tail: number) => `console tail ${tail}`;
  engineLog = async (tail: number) => `berthd tail ${tail}`;
}

describe('VmEngine', () => {
  it('shows each boot step with the accelerator, then running with what the VM has', async () => {
    const vm = new FakeVm();
    const e = new VmEngine(vm);
    const seen: string[] = [];
    e.onChange(() => seen.push(`${e.state()}${e.progress() ? `: ${e.progress()!.step} [${e.progress()!.detail ?? ''}]` : ''}`));
    await e.start();
    expect(seen).toEqual(['starting: Starting QEMU []', 'starting: Starting QEMU [tcg (software emulation)]', 'starting: Booting the kernel [tcg (software emulation)]', 'starting: Starting the engine [tcg (software emulation)]', 'running']);
    expect(e.info().vm).toEqual({ accelerator: 'tcg', acceleratorNote: 'software emulation (kvm: /dev/kvm is missing)', bootSeconds: 61.2, resources: { cpus: 2, memoryMiB: 2048, diskGiB: 64, arch: 'amd64', fileSharing: 'auto', sharedFolders: [] } });
  });

  it('a failed start is an error with the console tail, in the info and the thrown message', async () => {
    const vm = new FakeVm();
    vm.failStart = Object.assign(new Error('the kernel panicked'), { consoleTail: 'Kernel panic - not syncing: VFS' });
    const e = new VmEngine(vm);
    await expect(e.start()).rejects.toThrow(/the kernel panicked\nKernel panic/);
    expect(e.state()).toBe('error');
    expect(e.error()).toBe('the kernel panicked');
    expect(e.info().vm?.consoleTail).toBe('Kernel panic - not syncing: VFS');
    // The next attempt clears it.
    vm.failStart = undefined;
    await e.start();
    expect(e.info().vm?.consoleTail).toBeUndefined();
  });

  it('says which changed settings wait for a restart, and forgets them after it', async () => {
    const vm = new FakeVm();
    const e = new VmEngine(vm);
    await e.start();
    expect(e.info().vm?.restartRequired).toBeUndefined();
    let changes = 0;
    e.onChange(() => changes++);
    vm.desired = { ...vm.desired, cpus: 4, memoryMiB: 4096 };
    e.settingsChanged();
    expect(changes).toBe(1);
    expect(e.info().vm?.restartRequired).toEqual(['CPUs', 'memory']);
    await e.restart();
    expect(vm.calls).toEqual(['start', 'stop', 'start']);
    expect(e.info().vm?.restartRequired).toBeUndefined();
    expect(e.info().vm?.resources?.cpus).toBe(4);
    // A stopped VM needs no restart: the next start uses the settings.
    await e.stop();
    vm.desired = { ...vm.desired, cpus: 1 };
    e.settingsChanged();
    expect(e.info().vm?.restartRequired).toBeUndefined();
  });

  it('settings the VM would refuse are not a pending restart', async () => {
    const vm = new FakeVm();
    const e = new VmEngine(vm);
    await e.start();
    vm.desiredResources = () => {
      throw new Error('invalid VM settings');
    };
    e.settingsChanged();
    expect(e.info().vm?.restartRequired).toBeUndefined();
  });

  it('reset: the controller stops the VM and deletes its data, then a running VM starts again on a blank disk', async () => {
    const vm = new FakeVm();
    const e = new VmEngine(vm);
    await e.start();
    const states: string[] = [];
    e.onChange(() => states.push(e.state()));
    await e.resetData();
    expect(vm.calls).toEqual(['start', 'reset', 'stop', 'start']);
    expect(states[0]).toBe('stopping');
    expect(states).toContain('stopped');
    expect(e.state()).toBe('running');
  });

  it('reset of a stopped VM deletes its data and leaves it stopped', async () => {
    const vm = new FakeVm();
    const e = new VmEngine(vm);
    await e.resetData();
    expect(vm.calls).toEqual(['reset', 'stop']);
    expect(e.state()).toBe('stopped');
  });

  it('a failed reset is an error that names it', async () => {
    const vm = new FakeVm();
    vm.reset = async () => {
      throw new Error('the Berth VM did not stop, so its data was not deleted');
    };
    const e = new VmEngine(vm);
    await expect(e.resetData()).rejects.toThrow('resetting the VM failed: the Berth VM did not stop');
    expect(e.state()).toBe('error');
  });

  it('logs: the console always, berthd from inside the VM while it runs', async () => {
    const vm = new FakeVm();
    const e = new VmEngine(vm);
    expect(await e.readLogs(50, 'console')).toEqual({ text: 'console tail 50', file: '/tmp/vm-fake/console.log' });
    expect((await e.readLogs(50)).text).toMatch(/inside the Berth VM, which is not running/);
    await e.start();
    expect(await e.readLogs(50, 'engine')).toEqual({ text: 'berthd tail 50' });
  });
});

describe('pendingRestart', () => {
  it('names what differs, shared folders included', () => {
    const base = { cpus: 2, memoryMiB: 2048, diskGiB: 64, arch: 'amd64' };
    expect(pendingRestart(base, base)).toEqual([]);
    expect(pendingRestart(base, { ...base, diskGiB: 80 })).toEqual(['disk size']);
    expect(pendingRestart({ ...base, sharedFolders: [{ path: '/home/u' }] }, { ...base, sharedFolders: [{ path: '/home/u', readOnly: true }] })).toEqual(['shared folders']);
    expect(pendingRestart({ ...base, fileSharing: 'auto' }, { ...base, fileSharing: '9p' })).toEqual(['file sharing']);
  });
});
