import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { isWithin, resolveResources, resolveSharedFolders, sharedFoldersFromEnv } from './resources.js';

describe('shared folders (vm.sharedFolders)', () => {
  it('absent: the home folder, read-write; an empty list shares nothing', () => {
    expect(resolveSharedFolders(undefined, 'darwin', '/Users/ann')).toEqual([{ path: '/Users/ann', readOnly: false }]);
    expect(resolveSharedFolders([], 'linux', '/home/ann')).toEqual([]);
    expect(resolveResources(undefined, {}).sharedFolders).toEqual(process.platform === 'win32' ? [] : [{ path: os.homedir(), readOnly: false }]);
  });

  it('normalizes, drops exact duplicates and sorts parents before nested folders', () => {
    expect(
      resolveSharedFolders([{ path: '/Users/ann/proj/data/', readOnly: true }, { path: '/Users/ann' }, { path: '/Volumes/ext/../ext' }, { path: '/Users/ann/' }], 'darwin'),
    ).toEqual([
      { path: '/Users/ann', readOnly: false },
      { path: '/Volumes/ext', readOnly: false },
      { path: '/Users/ann/proj/data', readOnly: true },
    ]);
  });

  it('refuses relative paths, /, the guest system folders and conflicting duplicates, naming the setting', () => {
    expect(() => resolveSharedFolders([{ path: 'proj' }], 'linux')).toThrow(/vm\.sharedFolders: "proj" is not an absolute path/);
    expect(() => resolveSharedFolders([{ path: '/' }], 'linux')).toThrow(/\/ cannot be shared whole/);
    expect(() => resolveSharedFolders([{ path: '/var/lib/berth/x' }], 'linux')).toThrow(/is inside the VM's own \/var\/lib\/berth/);
    expect(() => resolveSharedFolders([{ path: '/var' }], 'linux')).toThrow(/\/var cannot be shared: it contains the VM's own \/var\/lib\/berth/);
    expect(() => resolveSharedFolders([{ path: '/usr/local/src' }], 'linux')).toThrow(/inside the VM's own \/usr/);
    expect(() => resolveSharedFolders([{ path: '/x' }, { path: '/x', readOnly: true }], 'linux')).toThrow(/listed twice/);
    expect(() => resolveSharedFolders([{ path: '/x', readOnly: 'yes' as unknown as boolean }], 'linux')).toThrow(/readOnly of \/x must be true or false/);
    // /tmp and /var/folders (macOS temp) are fine: the guest's /tmp is a tmpfs a mount can cover.
    expect(resolveSharedFolders([{ path: '/tmp/t1' }, { path: '/var/folders/ab' }], 'darwin').map((f) => f.path)).toEqual(['/tmp/t1', '/var/folders/ab']);
  });

  it('Windows: none by default, a configured list is refused (no 9p in QEMU for Windows)', () => {
    expect(resolveSharedFolders(undefined, 'win32', 'C:\\Users\\ann')).toEqual([]);
    expect(() => resolveSharedFolders([{ path: 'C:\\src' }], 'win32')).toThrow(/not supported on Windows/);
  });

  it('BERTH_VM_SHARED_FOLDERS overrides the settings (JSON list, or none)', () => {
    expect(sharedFoldersFromEnv(undefined)).toBeUndefined();
    expect(sharedFoldersFromEnv('none')).toEqual([]);
    expect(sharedFoldersFromEnv('[{"path":"/a","readOnly":true}]')).toEqual([{ path: '/a', readOnly: true }]);
    expect(() => sharedFoldersFromEnv('/a')).toThrow(/invalid BERTH_VM_SHARED_FOLDERS/);
    if (process.platform !== 'win32') {
      expect(resolveResources({ sharedFolders: [{ path: '/b' }] }, { BERTH_VM_SHARED_FOLDERS: '[{"path":"/a","readOnly":true}]' }).sharedFolders).toEqual([{ path: '/a', readOnly: true }]);
      expect(resolveResources({ sharedFolders: [{ path: '/b' }] }, {}).sharedFolders).toEqual([{ path: '/b', readOnly: false }]);
    }
  });

  it('isWithin compares whole path components', () => {
    expect(isWithin('/Users/ann/x', '/Users/ann')).toBe(true);
    expect(isWithin('/Users/ann', '/Users/ann')).toBe(true);
    expect(isWithin('/Users/anna', '/Users/ann')).toBe(false);
    expect(isWithin('/anything', '/')).toBe(true);
  });
});
