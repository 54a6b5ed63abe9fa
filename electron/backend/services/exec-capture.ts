/** Runs a short command in a running container and collects its output and exit code (no TTY, nothing on stdin). */
import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export async function execCapture(docker: Docker, containerId: string, cmd: string[], timeoutMs = 30_000): Promise<Captured> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`${cmd[0]} did not finish within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  // The exit code is recorded a moment after the stream ends.
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return { code: info.ExitCode ?? 0, stdout, stderr };
    await new Promise((r) => setTimeout(r, 20));
  }
  return { code: -1, stdout, stderr };
}
