/**
 * Pull and push progress: Docker's JSON message lines (progress/jsonmessage.ts) written to the
 * output the API layer gives, with errors in-band once output has begun, and moby's rate
 * limit of progress-bar updates.
 */
import { auxLine, errorLine, progressLine, statusLine, type JsonLineOutput, type ProgressDetail } from '../progress/jsonmessage.js';

export type { ProgressDetail } from '../progress/jsonmessage.js';

/** Where pull and push report progress. */
export interface ProgressSink {
  /** A message line: {"status": msg, "id": id}. */
  message(id: string | undefined, msg: string): void;
  /** A status update with progressDetail (possibly empty). */
  update(id: string, action: string, detail?: ProgressDetail): void;
  aux(value: unknown): void;
}

/** Buffered progress lines beyond this are dropped (only bar updates) for a client that does not read. */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** The progress stream of one pull or push. */
export class ProgressStream implements ProgressSink {
  private ended = false;

  constructor(private readonly out: JsonLineOutput) {}

  get started(): boolean {
    return this.out.started;
  }

  private write(line: string, droppable = false): void {
    if (this.ended) return;
    if (droppable && this.out.buffered > MAX_BUFFERED) return;
    this.out.write(line);
  }

  message(id: string | undefined, msg: string): void {
    this.write(statusLine(id, msg));
  }

  update(id: string, action: string, detail?: ProgressDetail): void {
    const droppable = detail !== undefined && (detail.current ?? 0) > 0;
    this.write(progressLine(id, action, detail), droppable);
  }

  aux(value: unknown): void {
    this.write(auxLine(value));
  }

  /** Reports an error in-band (after output began). */
  error(message: string): void {
    this.write(errorLine(message));
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.out.end();
  }
}

/**
 * Rate-limits "Downloading"/"Extracting"/"Pushing" bar updates per layer as
 * moby's progress reader does: at most one per 100 ms, each after at least
 * min(512 KB, 1%) of progress, plus the final one.
 */
export class BarThrottle {
  private lastBytes = 0;
  private lastTime = 0;

  constructor(private readonly total: number) {}

  shouldEmit(current: number): boolean {
    const step = this.total > 0 ? Math.min(512 * 1024, Math.floor(this.total / 100)) : 512 * 1024;
    if (current === this.total) {
      this.lastBytes = current;
      return true;
    }
    if (current - this.lastBytes <= step) return false;
    const now = Date.now();
    if (now - this.lastTime < 100) return false;
    this.lastBytes = current;
    this.lastTime = now;
    return true;
  }
}
