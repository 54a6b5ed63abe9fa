/** Streaming a tar archive that berthd builds (tar-stream's pack) to a client. */
import type { Writable } from 'node:stream';
import type tar from 'tar-stream';

/**
 * Pipes pack into out. Resolves once out has everything; rejects when out fails or the client
 * closes the connection first, and then destroys pack so pending entries fail and files close.
 */
export function pipePack(pack: tar.Pack, out: Writable): Promise<void> {
  const piping = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
    out.once('close', () => reject(new Error('the client closed the connection')));
    pack.on('error', reject);
  });
  piping.catch((err: Error) => pack.destroy(err));
  // With a callback, streamx reports a client that went away there instead of throwing; `piping` handles it.
  pack.pipe(out, () => undefined);
  return piping;
}
