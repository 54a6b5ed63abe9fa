/**
 * Host tuning for fast container starts: the cgroup2 `favordynmods` mount option.
 *
 * Every start moves the container's init into its cgroups. By default the kernel keeps the
 * threadgroup rwsem per-CPU, so the first cgroup move after a quiet moment waits for an RCU grace
 * period — 10–30 ms of every `docker run` on a small VM (measured here; kernel commit 6a010a49
 * "cgroup: Make !percpu threadgroup_rwsem operations optional" explains it). With favordynmods
 * the move takes microseconds, for slightly dearer fork/exit. The switch is kernel-global (one
 * cgroup2 remount covers cgroup v1 hierarchies too) and, on recent kernels, stays on until reboot;
 * `features: {"cgroup-favordynmods": false}` in the config file opts out.
 */
import { run } from './command.js';
import { readMounts, type MountEntry } from './mountinfo.js';

/** The cgroup2 mount to remount: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
export function cgroup2Mount(entries: readonly MountEntry[]): MountEntry | undefined {
  return entries.find((e) => e.fsType === 'cgroup2' && e.mountPoint.startsWith('/sys/fs/cgroup'));
}

export type FavorDynmodsResult = 'enabled' | 'already-on' | 'no-cgroup2' | 'not-root';

/**
 * Turns favordynmods on. `mount -o remount,favordynmods` keeps the mount's other options
 * (nsdelegate, memory_recursiveprot, ...): util-linux merges them from mountinfo.
 */
export async function enableFavorDynmods(): Promise<FavorDynmodsResult> {
  if (process.getuid?.() !== 0) return 'not-root';
  const cg = cgroup2Mount(readMounts());
  if (!cg) return 'no-cgroup2';
  if (cg.options.includes('favordynmods')) return 'already-on';
  await run('mount', ['-o', 'remount,favordynmods', cg.mountPoint]);
  return 'enabled';
}
