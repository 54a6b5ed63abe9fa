/**
 * Where Berth keeps its own files: settings (per user), the berthd it starts
 * (pid file, log), and the defaults berthd itself uses. BERTH_HOME puts all
 * of Berth's files in one folder (tests, portable installs).
 */
import os from 'node:os';
import path from 'node:path';

export interface BerthPaths {
  /** settings.json */
  configDir: string;
  /** berthd.pid */
  runDir: string;
  /** berthd.log */
  logDir: string;
}

export function berthPaths(env: NodeJS.ProcessEnv = process.env): BerthPaths {
  if (env.BERTH_HOME) {
    const home = path.resolve(env.BERTH_HOME);
    return { configDir: home, runDir: path.join(home, 'run'), logDir: path.join(home, 'logs') };
  }
  const home = os.homedir();
  const configDir = path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'berth');
  if (process.getuid?.() === 0) return { configDir, runDir: '/run/berth-app', logDir: '/var/log/berth' };
  return {
    configDir,
    runDir: env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'berth') : path.join(configDir, 'run'),
    logDir: path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'berth'),
  };
}

/** berthd's own defaults (see engine/daemon/main.ts). */
export const BERTHD_DEFAULTS = {
  socket: '/var/run/berth/docker.sock',
  dataRoot: '/var/lib/berth',
  configFile: '/etc/berth/daemon.json',
} as const;
