/**
 * Where one VM's files live on the host. Disks and remembered verdicts are state (kept); sockets
 * are runtime files in a 0700 folder (the engine API socket inside it is 0600 as well); logs sit
 * with Berth's other logs. Unix socket paths are limited to ~104 bytes, so the runtime folder is
 * short.
 */
import os from 'node:os';
import path from 'node:path';
import type { LocalEndpoint } from './qemu-args.js';

export interface BerthDirs {
  configDir: string;
  runDir: string;
  logDir: string;
}

export interface VmPaths {
  name: string;
  /** data.qcow2, accelerator verdicts, host-agent config. */
  stateDir: string;
  runDir: string;
  dataDisk: string;
  /** The Docker API on the host (0600). */
  dockerSocket: string;
  /** The host agent's control API (0600): status, stop, shell. */
  controlSocket: string;
  qmp: LocalEndpoint;
  agent: LocalEndpoint;
  consoleLog: string;
  hostLog: string;
  qemuPidFile: string;
  hostAgentPidFile: string;
  hostAgentConfig: string;
  verdicts: string;
}

export function vmStateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_VM_STATE) return path.resolve(env.BERTH_VM_STATE);
  if (env.BERTH_HOME) return path.join(path.resolve(env.BERTH_HOME), 'vm');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Berth', 'vm');
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'Berth', 'vm');
  if (process.getuid?.() === 0) return '/var/lib/berth-vm';
  return path.join(env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'berth', 'vm');
}

export function vmPaths(dirs: BerthDirs, name = 'default', env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): VmPaths {
  const stateDir = path.join(vmStateRoot(env), name);
  const runDir = path.join(dirs.runDir, `vm-${name}`);
  const ep = (what: string): LocalEndpoint => (platform === 'win32' ? { kind: 'pipe', name: `berth-vm-${name}-${what}-${process.env.USERNAME ?? 'user'}` } : { kind: 'unix', path: path.join(runDir, `${what}.sock`) });
  return {
    name,
    stateDir,
    runDir,
    dataDisk: path.join(stateDir, 'data.qcow2'),
    dockerSocket: platform === 'win32' ? `\\\\.\\pipe\\berth-vm-${name}-docker` : path.join(runDir, 'docker.sock'),
    controlSocket: platform === 'win32' ? `\\\\.\\pipe\\berth-vm-${name}-control` : path.join(runDir, 'control.sock'),
    qmp: ep('qmp'),
    agent: ep('agent'),
    consoleLog: path.join(dirs.logDir, `vm-${name}-console.log`),
    hostLog: path.join(dirs.logDir, `vm-${name}.log`),
    qemuPidFile: path.join(runDir, 'qemu.pid'),
    hostAgentPidFile: path.join(runDir, 'host-agent.pid'),
    hostAgentConfig: path.join(stateDir, 'host-agent.json'),
    verdicts: path.join(stateDir, 'accelerators.json'),
  };
}

export function dockerHostOf(p: VmPaths): string {
  return p.dockerSocket.startsWith('\\\\.\\pipe\\') ? `npipe:////./pipe/${p.dockerSocket.slice('\\\\.\\pipe\\'.length)}` : `unix://${p.dockerSocket}`;
}
