/**
 * A pseudo-terminal session for interactive CLI tests (`docker run -it`),
 * using util-linux `script` to give the child a real TTY.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export class PtySession {
  private buf = '';
  private readonly proc: ChildProcess;
  readonly exited: Promise<number>;

  constructor(command: string[], env: NodeJS.ProcessEnv, size = { rows: 24, cols: 80 }) {
    const quoted = command.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    // stty sets the terminal size the CLI will report; script exits with the child's status (-e).
    this.proc = spawn('script', ['-qefc', `stty rows ${size.rows} cols ${size.cols}; exec ${quoted}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.buf += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.buf += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code ?? -1)));
  }

  get output(): string {
    return this.buf;
  }

  write(data: string): void {
    this.proc.stdin!.write(data);
  }

  /** Waits until the output (after `from`) matches. Returns the index after the match. */
  async waitFor(re: RegExp | string, timeoutMs = 15_000, from = 0): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hay = this.buf.slice(from);
      const idx = typeof re === 'string' ? hay.indexOf(re) : hay.search(re);
      if (idx >= 0) return from + idx + (typeof re === 'string' ? re.length : (hay.match(re)?.[0].length ?? 0));
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(re)}; output so far:\n${JSON.stringify(this.buf)}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }
}
