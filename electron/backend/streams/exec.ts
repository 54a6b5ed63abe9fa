/**
 * An interactive shell in a container for the Terminal tab: finds bash (else
 * sh), creates a TTY exec, hijacks the connection for stdin/stdout, and
 * applies every resize the view sends (a missing resize garbles full-screen
 * programs). Ends with the shell's exit code.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { StreamParamsOf } from '../../contract/api.js';
import type { StreamSink } from '../rpc/session.js';

const PROBE = 'command -v bash || command -v sh || echo /bin/sh';

/** Asks the container which shell it has: bash if present, else sh. */
export async function findShell(container: Docker.Container): Promise<string> {
  try {
    const exec = await container.exec({ Cmd: ['/bin/sh', '-c', PROBE], AttachStdout: true, AttachStderr: true, Tty: true });
    const stream = (await exec.start({ hijack: true, stdin: false, Tty: true })) as Duplex;
    const out = await new Promise<string>((resolve, reject) => {
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (text += d));
      stream.once('end', () => resolve(text));
      stream.once('close', () => resolve(text));
      stream.once('error', reject);
    });
    // A path, or just the name when the shell is a busybox applet ("sh"); exec resolves names through PATH.
    const shell = out.split(/\r?\n/).map((l) => l.trim()).find((l) => /^\/?[\w/.+-]*(bash|sh)$/.test(l));
    if (shell) return shell;
  } catch {
    // No /bin/sh to ask with: try bash directly below.
  }
  return '/bin/bash';
}

export async function streamExec(docker: Docker, p: StreamParamsOf<'containers.exec'>, sink: StreamSink<'containers.exec'>): Promise<void> {
  const container = docker.getContainer(p.id);
  const cmd = p.shell ?? [await findShell(container)];
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Env: ['TERM=xterm-256color', 'COLORTERM=truecolor'],
    ConsoleSize: [p.rows, p.cols],
  } as Docker.ExecCreateOptions);
  if (sink.signal.aborted) return;
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
  const resize = (cols: number, rows: number) => exec.resize({ w: cols, h: rows }).catch(() => undefined);
  await resize(p.cols, p.rows);
  sink.emit({ type: 'started', shell: cmd.join(' '), execId: exec.id });
  sink.onInput((input) => {
    if (input.type === 'stdin') stream.write(input.data);
    else void resize(input.cols, input.rows);
  });
  const decoder = new StringDecoder('utf8');
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (d: Buffer) => {
      const text = decoder.write(d);
      if (text) sink.emit({ type: 'data', data: text });
    });
    const done = () => resolve();
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', (e) => (sink.signal.aborted ? resolve() : reject(e)));
    // Closing the view ends the session: end stdin (the shell sees EOF) and drop the connection.
    sink.signal.addEventListener(
      'abort',
      () => {
        stream.end();
        stream.destroy();
      },
      { once: true },
    );
  });
  if (sink.signal.aborted) return;
  const tail = decoder.end();
  if (tail) sink.emit({ type: 'data', data: tail });
  let code: number | null = null;
  try {
    code = (await exec.inspect()).ExitCode;
  } catch {
    // The container may be gone; the session is over either way.
  }
  sink.emit({ type: 'exit', code });
}
