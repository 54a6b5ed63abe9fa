import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runAttach, type StdinChannel } from './attach.js';
import type { ClientStreams } from './streams.js';

describe('runAttach input', () => {
  it('forwards input from a client stream that was left paused', async () => {
    const written: string[] = [];
    const channel = { write: (b: Buffer) => written.push(b.toString()), close: () => undefined } as unknown as StdinChannel;
    const input = new PassThrough();
    // What an API layer that read a request body with pause() hands over: a 'data' listener alone does not restart it.
    input.pause();
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    let closeClient!: () => void;
    const client: ClientStreams = {
      input,
      output: { writeLine: () => undefined, write: () => undefined, flush: async () => undefined },
      end: () => undefined,
      closed: new Promise<void>((r) => (closeClient = r)),
    };
    const session = runAttach(
      { logPath: '/nonexistent', maxLogFiles: 1, tty: true, stdin: channel, closeStdinOnEof: false, stopped },
      client,
      { stdin: true, stdout: false, stderr: false, logs: false, stream: true, detachKeys: Buffer.from([16, 17]) },
    );
    input.write('echo hi\r');
    await new Promise((r) => setTimeout(r, 50));
    expect(written.join('')).toBe('echo hi\r');
    // ctrl-p ctrl-q detaches and is not forwarded.
    input.write(Buffer.from([16, 17]));
    expect(await session).toBe('detached');
    expect(written.join('')).toBe('echo hi\r');
    stop();
    closeClient();
  });
});
