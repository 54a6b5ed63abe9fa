/** The engine's JSON-lines streams (events, stats, pull/push progress), split into values. */
import type { Readable } from 'node:stream';

/**
 * Splits chunked text into one JSON value per line; blank lines and lines that are not JSON are
 * skipped. An error thrown by onValue comes out of push/end.
 */
export class JsonLineDecoder {
  private rest = '';

  constructor(private readonly onValue: (v: unknown) => void) {}

  push(chunk: string): void {
    this.rest += chunk;
    let nl: number;
    while ((nl = this.rest.indexOf('\n')) >= 0) {
      const line = this.rest.slice(0, nl);
      this.rest = this.rest.slice(nl + 1);
      this.line(line);
    }
  }

  /** The last line, when the stream did not end with a newline. */
  end(): void {
    const line = this.rest;
    this.rest = '';
    this.line(line);
  }

  private line(raw: string): void {
    const line = raw.trim();
    if (!line) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return;
    }
    this.onValue(value);
  }
}

/** Reads a JSON-lines stream until it ends or the signal aborts. */
export function readJsonLines(stream: Readable, signal: AbortSignal, onValue: (v: unknown) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const decoder = new JsonLineDecoder(onValue);
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        stream.destroy();
        reject(err);
      }
    });
    stream.once('end', () => {
      try {
        decoder.end();
        resolve();
      } catch (err) {
        reject(err);
      }
    });
    stream.once('close', () => resolve());
    stream.once('error', (e) => (signal.aborted ? resolve() : reject(e)));
    if (signal.aborted) stream.destroy();
    else signal.addEventListener('abort', () => stream.destroy(), { once: true });
  });
}
