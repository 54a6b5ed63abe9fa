/**
 * Filesystem operations Node has no API for (device nodes, extended
 * attributes, mounts), done with the standard util-linux / attr tools — except unmounting,
 * which is on every container exit and uses umount2(2) directly (system/syscalls.ts).
 */
import { run } from './command.js';
import { MNT_DETACH, sysUnmount } from './syscalls.js';

/** An overlayfs whiteout: a character device 0:0. */
export async function mknodWhiteout(path: string): Promise<void> {
  await run('mknod', ['-m', '0000', path, 'c', '0', '0']);
}

export async function mknod(path: string, type: 'c' | 'b' | 'p', major: number, minor: number, mode: number): Promise<void> {
  const args = ['-m', (mode & 0o7777).toString(8), path, type];
  if (type !== 'p') args.push(String(major), String(minor));
  await run('mknod', args);
}

export async function setXattr(path: string, name: string, value: Buffer | string): Promise<void> {
  const v = typeof value === 'string' ? value : '0x' + value.toString('hex');
  await run('setfattr', ['-h', '-n', name, '-v', v, path]);
}

/** Lists paths under root carrying trusted.overlay.opaque=y (opaque dirs in an upper layer). */
export async function findOpaqueDirs(root: string): Promise<string[]> {
  // getfattr exits non-zero when some files lack the attribute; its output is still complete.
  const out = await run('getfattr', ['-R', '-P', '--absolute-names', '-m', '^trusted\\.overlay\\.opaque$', '-d', root]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const dirs: string[] = [];
  let current: string | undefined;
  for (const line of out.stdout.split('\n')) {
    if (line.startsWith('# file: ')) current = unescapeGetfattr(line.slice('# file: '.length));
    else if (current && /^trusted\.overlay\.opaque="y"/.test(line)) dirs.push(current);
  }
  return dirs;
}

function unescapeGetfattr(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export async function mount(source: string, target: string, fstype: string, options: string[], cwd?: string): Promise<void> {
  const args = ['-t', fstype];
  if (options.length > 0) args.push('-o', options.join(','));
  args.push(source, target);
  await run('mount', args, cwd ? { cwd } : {});
}

export async function unmount(target: string, lazy = false): Promise<void> {
  if (await sysUnmount(target, lazy ? MNT_DETACH : 0)) return;
  await run('umount', lazy ? ['-l', target] : [target]);
}
