/** Reading /proc: process start times (to detect PID reuse) and liveness. */
import fs from 'node:fs';

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses; fields restart after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

/** True when pid is alive and is the same process that started at startTime. */
export function isSameProcess(pid: number, startTime: string): boolean {
  if (pid <= 0) return false;
  const st = processStartTime(pid);
  if (st === undefined || st !== startTime) return false;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** The daemon's own resource limits (hard), from /proc/self/limits. */
export function ownHardLimits(): Map<string, number> {
  const names: Record<string, string> = {
    'Max open files': 'nofile',
    'Max processes': 'nproc',
    'Max core file size': 'core',
    'Max stack size': 'stack',
    'Max locked memory': 'memlock',
    'Max file size': 'fsize',
    'Max cpu time': 'cpu',
    'Max data size': 'data',
    'Max address space': 'as',
    'Max file locks': 'locks',
    'Max pending signals': 'sigpending',
    'Max msgqueue size': 'msgqueue',
    'Max nice priority': 'nice',
    'Max realtime priority': 'rtprio',
    'Max resident set': 'rss',
    'Max realtime timeout': 'rttime',
  };
  const out = new Map<string, number>();
  const text = fs.readFileSync('/proc/self/limits', 'utf8');
  for (const line of text.split('\n').slice(1)) {
    const label = line.slice(0, 26).trim();
    const key = names[label];
    if (!key) continue;
    const fields = line.slice(26).trim().split(/\s+/);
    const hard = fields[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(fields[1]);
    out.set(key, hard);
  }
  return out;
}
