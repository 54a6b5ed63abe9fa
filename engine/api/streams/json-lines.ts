/**
 * A JSON-lines response (pull, push, load progress) that begins with its first line: until
 * then an operation can still fail with an ordinary HTTP error. Its signal aborts when the
 * client goes away before the stream ended (moby cancels on a write error).
 */
import type { ServerResponse } from 'node:http';
import type { JsonLineOutput } from '../../progress/jsonmessage.js';
import { beginStream, type RequestContext } from '../context.js';

export class HttpJsonLines implements JsonLineOutput {
  private res: ServerResponse | undefined;
  private ended = false;
  private readonly abort = new AbortController();

  constructor(private readonly ctx: RequestContext) {
    ctx.res?.once('close', () => {
      if (!this.ended && !ctx.res?.writableFinished) this.abort.abort(new Error('client disconnected'));
    });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get started(): boolean {
    return this.res !== undefined;
  }

  get buffered(): number {
    return this.res?.writableLength ?? 0;
  }

  private response(): ServerResponse {
    return (this.res ??= beginStream(this.ctx, 'application/json'));
  }

  write(line: string): void {
    if (this.ended) return;
    this.response().write(line);
  }

  end(): void {
    if (this.ended) return;
    const res = this.response();
    this.ended = true;
    res.end();
  }
}
