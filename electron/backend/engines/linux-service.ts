/**
 * Berth's engine as a Linux system service (berth.service): whether it is
 * installed, how to install or remove it (berth-engine-service.sh as root,
 * through pkexec where there is one), and the command runner the systemd
 * engine uses. berthd must run as root; the desktop user reaches it through
 * the berth group, which owns its socket.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICE_UNIT = 'berth.service';
export const SERVICE_GROUP = 'berth';
/** Where berth.service may be installed (the .deb uses /usr/lib, berth engine install /etc). */
export const UNIT_DIRS = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never rejects (the exit code says how it went). */
export type CommandRunner = (cmd: string, args: string[], opts?: { timeoutMs?: number }) => Promise<CommandResult>;

export const runCommand: CommandRunner = (cmd, args, opts = {}) =>
  new Promise((resolve) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout: String(stdout ?? ''), stderr: String(stderr ?? (err && !stdout ? err.message : '')) });
    });
  });

/** The unit file of an installed berth.service, if any (looked up under root, for tests). */
export function installedUnit(root = '', dirs = UNIT_DIRS): string | undefined {
  for (const d of dirs) {
    const f = path.join(root, d, SERVICE_UNIT);
    if (fs.existsSync(f)) return f;
  }
  return undefined;
}

/** Whether this process may use the service's socket: root, or a member of the berth group (as the kernel sees it now). */
export function inServiceGroup(groupFile = '/etc/group', gids: number[] = process.getgroups?.() ?? [], uid: number | undefined = process.getuid?.()): boolean {
  if (uid === 0) return true;
  let text: string;
  try {
    text = fs.readFileSync(groupFile, 'utf8');
  } catch {
    return false;
  }
  const line = text.split('\n').find((l) => l.startsWith(`${SERVICE_GROUP}:`));
  if (!line) return false;
  const gid = Number(line.split(':')[2]);
  return gids.includes(gid);
}

/** The install script shipped with Berth: resources/packaging/linux in packages, electron/packaging/linux in a checkout. */
export function serviceScript(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_SERVICE_SCRIPT) return env.BERTH_SERVICE_SCRIPT;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/electron/backend/engines → the checkout's electron/packaging/linux (copied to resources/ when packaged).
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = [
    ...(typeof resources === 'string' ? [path.join(resources, 'packaging', 'linux', 'berth-engine-service.sh')] : []),
    path.resolve(here, '..', '..', '..', '..', 'electron', 'packaging', 'linux', 'berth-engine-service.sh'),
  ];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates.at(-1)!;
}

export interface InstallPlan {
  /** The command to run as root (without the elevation prefix). */
  argv: string[];
  /** pkexec, sudo, or none when already root. */
  elevate: 'pkexec' | 'sudo' | 'none';
  /** What will run as the engine, for the user to see. */
  describe: string;
}

/**
 * How to install the service for this copy of Berth: an AppImage (its mount vanishes when it
 * exits) and a tarball are copied to /opt/berth-engine, root-owned; a checkout runs in place
 * (only sensible on a development machine, and said so).
 */
export function installPlan(opts: {
  action: 'install' | 'uninstall';
  user?: string;
  env?: NodeJS.ProcessEnv;
  execPath?: string;
  daemonScript: string;
  packaged: boolean;
  isRoot?: boolean;
  has?: (cmd: string) => boolean;
}): InstallPlan {
  const env = opts.env ?? process.env;
  const has = opts.has ?? commandExists;
  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  const script = serviceScript(env);
  const argv = ['/bin/sh', script, opts.action];
  let describe = '';
  if (opts.action === 'install') {
    const execPath = opts.execPath ?? process.execPath;
    const appDir = env.APPDIR ?? path.dirname(execPath);
    if (opts.packaged) {
      const rel = (p: string) => path.relative(appDir, p);
      argv.push('--copy-app', appDir, '--exec', rel(execPath), '--script', rel(opts.daemonScript));
      describe = `a root-owned copy of ${env.APPIMAGE ?? appDir} in /opt/berth-engine`;
    } else {
      argv.push('--exec', execPath, '--script', opts.daemonScript, '--allow-user-owned');
      describe = `${execPath} ${opts.daemonScript} (this checkout, in place: for development machines only)`;
    }
    if (opts.user && opts.user !== 'root') argv.push('--user', opts.user);
  }
  const elevate = isRoot ? 'none' : has('pkexec') ? 'pkexec' : has('sudo') ? 'sudo' : 'none';
  return { argv, elevate, describe };
}

export function commandExists(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
