import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSharedHostPath } from './shared-paths.js';

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'shared-paths-')));
const shared = path.join(root, 'Users', 'ann');
fs.mkdirSync(path.join(shared, 'proj'), { recursive: true });
fs.mkdirSync(path.join(root, 'etc'));
fs.symlinkSync(path.join(root, 'etc'), path.join(shared, 'escape'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('bind sources in the VM (shared-host-paths)', () => {
  it('no list (native berthd): any path', () => {
    expect(() => checkSharedHostPath('/etc', undefined)).not.toThrow();
  });

  it('inside a shared folder, existing or not yet (-v creates it), is allowed', () => {
    expect(() => checkSharedHostPath(path.join(shared, 'proj'), [shared])).not.toThrow();
    expect(() => checkSharedHostPath(shared + '/', [shared])).not.toThrow();
    expect(() => checkSharedHostPath(path.join(shared, 'new', 'dir'), [shared])).not.toThrow();
  });

  it('outside every shared folder: Docker Desktop\'s "Mounts denied", naming the setting', () => {
    expect(() => checkSharedHostPath(path.join(root, 'etc'), [shared])).toThrow(
      `Mounts denied: The path ${path.join(root, 'etc')} is not shared from the host and is not known to Berth. You can configure shared paths in Berth's settings: vm.sharedFolders`,
    );
    // A sibling whose name starts like the share is not inside it.
    expect(() => checkSharedHostPath(`${shared}a`, [shared])).toThrow(/Mounts denied/);
    expect(() => checkSharedHostPath(path.join(shared, '..', 'bob'), [shared])).toThrow(/Mounts denied/);
  });

  it('a symlink inside a share pointing out of it is refused; the engine socket is allowed', () => {
    expect(() => checkSharedHostPath(path.join(shared, 'escape', 'x'), [shared])).toThrow(/Mounts denied/);
    expect(() => checkSharedHostPath('/var/run/docker.sock', [shared])).not.toThrow();
    expect(() => checkSharedHostPath('/run/docker.sock', [])).not.toThrow();
  });
});
