import { describe, expect, it } from 'vitest';
import { cgroup2Mount } from './cgroup-tuning.js';
import { parseMountinfo } from './mountinfo.js';

const hybrid = `22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 30 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
`;
const unified = `35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,favordynmods,memory_recursiveprot
90 35 0:55 / /mnt/with\\040space rw - cgroup2 cgroup2 rw
`;

describe('cgroup2 mount lookup', () => {
  it('finds the unified hierarchy of a hybrid host and its options', () => {
    const cg = cgroup2Mount(parseMountinfo(hybrid));
    expect(cg?.mountPoint).toBe('/sys/fs/cgroup/unified');
    expect(cg?.options).toContain('nsdelegate');
    expect(cg?.options).not.toContain('favordynmods');
  });

  it('sees favordynmods already on a cgroup2-only host, and ignores cgroup2 mounted elsewhere', () => {
    const entries = parseMountinfo(unified);
    expect(entries[1]!.mountPoint).toBe('/mnt/with space');
    const cg = cgroup2Mount(entries);
    expect(cg?.mountPoint).toBe('/sys/fs/cgroup');
    expect(cg?.options).toContain('favordynmods');
  });

  it('reports no cgroup2 on a cgroup v1-only host', () => {
    expect(cgroup2Mount(parseMountinfo(hybrid.split('\n').filter((l) => !l.includes('cgroup2')).join('\n')))).toBeUndefined();
  });
});
