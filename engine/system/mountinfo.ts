/**
 * The kernel's table of mounts (/proc/self/mountinfo): one parser for every question berthd asks
 * it — is a path a mount point, which mount is the cgroup2 hierarchy and with what options.
 */
import fs from 'node:fs';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  /** Per-mount and superblock options together. */
  options: string[];
}

/** Parses mountinfo lines (octal escapes such as \040 in paths decoded). */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 6 || right.length < 3) continue;
    out.push({
      mountPoint: left[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      fsType: right[0]!,
      options: [...left[5]!.split(','), ...right[2]!.split(',')],
    });
  }
  return out;
}

export function readMounts(file = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountinfo(fs.readFileSync(file, 'utf8'));
}

/** True when something is mounted on `target` (false if the table cannot be read). */
export function isMountPoint(target: string): boolean {
  try {
    return readMounts().some((m) => m.mountPoint === target);
  } catch {
    return false;
  }
}
