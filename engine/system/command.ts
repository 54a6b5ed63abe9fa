/**
 * Runs external system components (runc, mount, iptables...) and turns their
 * failures into errors that say which command failed and what it printed.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SystemError } from '../errdefs.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends SystemError {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    const detail = (stderr || stdout).trim().split('\n').slice(-3).join('; ');
    super(`${command} ${args.join(' ')}: exit status ${exitCode ?? 'signal'}${detail ? `: ${detail}` : ''}`);
  }
}

export function run(command: string, args: readonly string[], opts: ExecFileOptions & { input?: string | Buffer } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024, ...opts, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : null;
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new SystemError(`${command}: executable not found in $PATH`, { cause: err }));
          return;
        }
        reject(new CommandError(command, args, code, String(stderr), String(stdout)));
        return;
      }
      resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Resolves a program name against $PATH (absolute paths are checked as given). */
export function findExecutable(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return path.resolve(c);
    } catch {
      /* next */
    }
  }
  return undefined;
}
