/**
 * The build's JSON stream, written the way dockerd's streamformatter writes
 * it: one JSON object per write (`{"stream":"Step 1/3 : FROM x"}` and the
 * newline after it are two messages, as in dockerd), "\r\n" after each, RUN
 * stderr wrapped in red (`\u001b[91m…\u001b[0m`), `{"aux":{"ID":…}}` after
 * each stage, errors as `{"errorDetail":{"code":N,"message":M},"error":M}`.
 */
import { goJson, goJsonString } from './go-format.js';

export const STREAM_NEWLINE = '\r\n';

/** An error that carries the exit code of a failed RUN into errorDetail.code. */
export class BuildStepError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export class BuildOutput {
  constructor(private readonly sink: (data: string) => void) {}

  /** Text on the build's stdout: `{"stream": text}`. */
  stdout(text: string): void {
    this.sink(`{"stream":${goJsonString(text)}}${STREAM_NEWLINE}`);
  }

  /** Text on the build's stderr, in red as the CLI shows it. */
  stderr(text: string): void {
    this.sink(`{"stream":${goJsonString('\u001b[91m' + text + '\u001b[0m')}}${STREAM_NEWLINE}`);
  }

  aux(value: unknown): void {
    this.sink(`{"aux":${goJson(value)}}${STREAM_NEWLINE}`);
  }

  /** A progress line produced elsewhere (a pull during FROM, an ADD download). */
  raw(jsonLine: string): void {
    this.sink(jsonLine.endsWith('\n') ? jsonLine : jsonLine + STREAM_NEWLINE);
  }

  error(err: unknown): void {
    this.sink(formatError(err));
  }
}

export function formatError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const detail = err instanceof BuildStepError ? { code: err.code, message } : { message };
  return `{"errorDetail":${goJson(detail)},"error":${goJsonString(message)}}${STREAM_NEWLINE}`;
}
