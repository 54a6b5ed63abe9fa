import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Backend } from '../backend.js';
import { sharedFoldersProblem, vmSettingsProblem } from './vm-settings.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vmset-'));
  dirs.push(d);
  return d;
};

describe('VM settings validation', () => {
  it('uses the VM\'s own rules for CPUs, memory and disk (vm/host/resources.ts)', () => {
    expect(vmSettingsProblem({ cpus: 2, memoryMiB: 2048, diskGiB: 64 })).toBeUndefined();
    expect(vmSettingsProblem({ cpus: 0 })).toBe('invalid VM settings: CPUs must be a whole number from 1 to 64 (got 0)');
    expect(vmSettingsProblem({ memoryMiB: 100, diskGiB: 2 })).toBe('invalid VM settings: memory must be 512–262144 MiB (got 100); the disk must be 4–8192 GiB (got 2)');
  });

  it('ignores BERTH_VM_* overrides: the stored values are what is checked', () => {
    const before = process.env.BERTH_VM_CPUS;
    process.env.BERTH_VM_CPUS = '2';
    try {
      expect(vmSettingsProblem({ cpus: 100 })).toMatch(/CPUs must be/);
    } finally {
      if (before === undefined) delete process.env.BERTH_VM_CPUS;
      else process.env.BERTH_VM_CPUS = before;
    }
  });

  it('file sharing: auto, virtiofs or 9p; virtiofs on a host that cannot run it is refused when saved', () => {
    expect(vmSettingsProblem({ fileSharing: '9p' })).toBeUndefined();
    expect(vmSettingsProblem({ fileSharing: 'nfs' as never })).toBe('invalid VM settings: file sharing must be auto, virtiofs or 9p (got nfs)');
    expect(vmSettingsProblem({ fileSharing: 'virtiofs' }, 'darwin')).toMatch(/vm\.fileSharing is virtiofs, but virtiofs needs a Linux host/);
  });

  it('shared folders: absolute, existing folders, each once', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'file'), '');
    expect(sharedFoldersProblem([{ path: d }, { path: path.join(d, '..'), readOnly: true }])).toBeUndefined();
    expect(sharedFoldersProblem([{ path: 'relative/dir' }])).toMatch(/must be an absolute path \(got "relative\/dir"\)/);
    expect(sharedFoldersProblem([{ path: d }, { path: `${d}/` }])).toBe(`invalid VM settings: ${d} is shared twice`);
    expect(sharedFoldersProblem([{ path: path.join(d, 'missing') }])).toMatch(/does not exist or is not a folder/);
    expect(sharedFoldersProblem([{ path: path.join(d, 'file') }])).toMatch(/does not exist or is not a folder/);
    expect(sharedFoldersProblem([{ path: 'C:\\Users\\me' }], 'win32')).toMatch(/does not exist/);
  });

  it('settings.update refuses what the VM would refuse and stores nothing; a valid change is stored', async () => {
    const home = tmp();
    const backend = new Backend({ paths: { configDir: home, runDir: path.join(home, 'run'), logDir: path.join(home, 'logs') }, host: { capabilities: () => ({ desktop: false, pickFolder: false, startAtLogin: false, closeToTray: false, platform: 'linux' }) }, ownEngine: null, discover: () => [] });
    const update = backend.handlers.methods['settings.update'];
    await expect(Promise.resolve().then(() => update({ vm: { cpus: 65 } }))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/CPUs must be a whole number from 1 to 64 \(got 65\)/) });
    expect(backend.settings.get().vm).toBeUndefined();
    await update({ vm: { cpus: 3, memoryMiB: 1536, sharedFolders: [{ path: home, readOnly: true }] } });
    expect(backend.settings.get().vm).toEqual({ cpus: 3, memoryMiB: 1536, sharedFolders: [{ path: home, readOnly: true }] });
    expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')).vm.sharedFolders).toEqual([{ path: home, readOnly: true }]);
    await backend.dispose();
  });
});
