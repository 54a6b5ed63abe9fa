import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirInRoot, resolveInRoot, RootPathError } from './rootpath.js';

describe('resolveInRoot: links and .. never leave the root', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rootpath-'));
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    fs.symlinkSync('/', path.join(root, 'toroot'));
    fs.symlinkSync('../../../../etc', path.join(root, 'up'));
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs'));
    fs.symlinkSync('loop2', path.join(root, 'loop1'));
    fs.symlinkSync('loop1', path.join(root, 'loop2'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads links relative to the root', () => {
    expect(resolveInRoot(root, '/toroot/etc/passwd')).toBe(path.join(root, 'etc', 'passwd'));
    expect(resolveInRoot(root, '/up/passwd')).toBe(path.join(root, 'etc', 'passwd'));
    expect(resolveInRoot(root, '/abs')).toBe(path.join(root, 'etc', 'passwd'));
    expect(resolveInRoot(root, '../../../etc/./passwd')).toBe(path.join(root, 'etc', 'passwd'));
  });

  it('leaves the final link alone when asked', () => {
    expect(resolveInRoot(root, '/abs', false)).toBe(path.join(root, 'abs'));
  });

  it('stops link loops with an error', () => {
    expect(() => resolveInRoot(root, '/loop1')).toThrow(RootPathError);
  });

  it('mkdirInRoot creates through links, inside the root', () => {
    const made = mkdirInRoot(root, '/toroot/work/dir');
    expect(made).toBe(path.join(root, 'work', 'dir'));
    expect(fs.statSync(path.join(root, 'work', 'dir')).isDirectory()).toBe(true);
  });
});
