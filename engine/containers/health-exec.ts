/**
 * Health probes as exec sessions (moby runs them as execs too: `exec_create`/`exec_start`/
 * `exec_die` events, the container's user, env and working dir), with their output captured in
 * memory instead of sent to a client, and the process killed when it outlives the timeout.
 */
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Container } from './container.js';
import { parseExecConfig, type ExecManager } from './exec.js';
import type { ClientStreams } from './streams.js';
import { HEALTH_OUTPUT_MAX, type ProbeResult } from './health.js';

/** Go's time.Duration formatting for the timeout message ("30s", "1.5s", "500ms"). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return m < 60 ? `${m}m${rest}s` : `${Math.floor(m / 60)}h${m % 60}m${rest}s`;
}

function captureClient(): { client: ClientStreams; output: () => string; close: () => void } {
  const chunks: Buffer[] = [];
  let size = 0;
  // Keep a little more than what the result shows; the rest is dropped, never buffered.
  const keep = (part: Buffer | string) => {
    if (size >= HEALTH_OUTPUT_MAX * 2) return;
    const b = Buffer.from(part);
    chunks.push(b);
    size += b.length;
  };
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const input = new PassThrough();
  input.end();
  const client: ClientStreams = {
    input,
    output: {
      writeLine: (_stream, content, newline, prefix) => {
        if (prefix) keep(prefix);
        keep(content);
        if (newline) keep('\n');
      },
      write: (_stream, ...parts) => {
        for (const p of parts) keep(p);
      },
      flush: () => Promise.resolve(),
    },
    end: markClosed,
    closed,
  };
  return { client, output: () => Buffer.concat(chunks).toString(), close: markClosed };
}

/** A process and its descendants (host PIDs), parents first. */
function processTree(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < 1024) {
    const pid = queue.shift()!;
    out.push(pid);
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) queue.push(Number(c));
      } catch {
        /* exited meanwhile */
      }
    }
  }
  return out;
}

export async function runHealthProbe(execs: ExecManager, c: Container, cmd: string[], timeoutMs: number): Promise<ProbeResult> {
  const id = execs.create(c.id, parseExecConfig({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false }));
  const { client, output, close } = captureClient();
  let timedOut = false;
  // The probe and what it started (a CMD-SHELL's shell forks its commands).
  const kill = () => {
    const pid = execs.inspect(id).Pid;
    for (const p of pid > 0 ? processTree(pid) : []) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
    close();
  }, timeoutMs);
  timer.unref();
  try {
    await execs.start(id, { detach: false, tty: false }, client);
    if (timedOut) {
      // A timeout during the launch: the process is known only now.
      kill();
      return { exitCode: -1, output: `Health check exceeded timeout (${goDuration(timeoutMs)})` };
    }
    const exitCode = execs.inspect(id).ExitCode;
    return { exitCode: exitCode ?? -1, output: output() };
  } finally {
    clearTimeout(timer);
    execs.forget(id);
  }
}
