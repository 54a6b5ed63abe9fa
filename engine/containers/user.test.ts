import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveUser } from './user.js';

describe('resolveUser: -u against the container\'s own passwd and group', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'user-'));
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('resolves names, numbers and supplementary groups as moby does', async () => {
    expect(await resolveUser(root, 'app')).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 2000], home: '/home/app' });
    expect(await resolveUser(root, '')).toMatchObject({ uid: 0, gid: 0, home: '/root' });
    expect(await resolveUser(root, '42:43')).toMatchObject({ uid: 42, gid: 43 });
    await expect(resolveUser(root, 'nobody')).rejects.toThrow('unable to find user nobody: no matching entries in passwd file');
  });

  it('a FIFO or a device as passwd: never opened, a clear error instead of a runtime that waits forever', async () => {
    fs.rmSync(path.join(root, 'etc', 'passwd'));
    execFileSync('mkfifo', [path.join(root, 'etc', 'passwd')]);
    await expect(resolveUser(root, 'app')).rejects.toThrow('unable to find user app: /etc/passwd is a named pipe, not a regular file');
    await expect(resolveUser(root, '')).rejects.toThrow('unable to set up the container user: /etc/passwd is a named pipe, not a regular file (the runtime would block reading it)');
    // docker cp -a is no runtime: a numeric user does without the file.
    expect(await resolveUser(root, '5:6', [], { forRuntime: false })).toMatchObject({ uid: 5, gid: 6 });
    fs.rmSync(path.join(root, 'etc', 'group'));
    execFileSync('mknod', [path.join(root, 'etc', 'group'), 'c', '1', '5']);
    await expect(resolveUser(root, '0:wheel', [], { forRuntime: false })).rejects.toThrow('unable to find group wheel: /etc/group is a character device, not a regular file');
  });

  it('a passwd over 1 MiB is not parsed', async () => {
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), Buffer.alloc(2 * 1024 * 1024, 0x61));
    await expect(resolveUser(root, 'app')).rejects.toThrow(/unable to find user app: \/etc\/passwd is too large/);
    expect(await resolveUser(root, '')).toMatchObject({ uid: 0, home: '/root' });
  });
});
