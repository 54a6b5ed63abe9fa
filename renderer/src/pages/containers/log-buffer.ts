/**
 * The text behind the Logs view, kept so the view can be redrawn with older
 * lines above it (xterm.js cannot insert above its buffer). Bounded by a line
 * count like the terminal's scrollback: new text pushes the oldest out (and
 * "load older" stops: the view no longer starts at a known time); older text
 * pushes the newest out (the view stops following until it is reset).
 */
export class LogBuffer {
  private chunks: string[] = [];
  private lineCounts: number[] = [];
  private lines = 0;
  /** The timestamp ("seconds.nanoseconds") of the first line held, for the next "load older". */
  firstTime: string | undefined;
  /** How many lines held carry exactly firstTime (engines may stamp a batch of lines with one time). */
  firstCount = 0;

  constructor(private readonly maxLines: number) {}

  get lineCount(): number {
    return this.lines;
  }

  /** Adds new text at the end; returns true if old text had to be dropped. */
  append(text: string): boolean {
    const n = countLines(text);
    this.chunks.push(text);
    this.lineCounts.push(n);
    this.lines += n;
    return this.trim();
  }

  /** Adds older text at the start; says how many lines were added and whether the newest had to go. */
  prepend(text: string, firstTime: string, firstCount: number): { added: number; droppedNewest: boolean } {
    const n = countLines(text);
    this.chunks.unshift(text);
    this.lineCounts.unshift(n);
    this.lines += n;
    // A page that starts at the same instant as the view did is entirely at that instant.
    this.firstCount = firstTime === this.firstTime ? this.firstCount + firstCount : firstCount;
    this.firstTime = firstTime;
    let droppedNewest = false;
    while (this.lines > this.maxLines && this.chunks.length > 1) {
      this.lines -= this.lineCounts.pop()!;
      this.chunks.pop();
      droppedNewest = true;
    }
    return { added: n, droppedNewest };
  }

  private trim(): boolean {
    let dropped = false;
    // Keep one chunk even if it alone is over the limit.
    while (this.lines > this.maxLines && this.chunks.length > 1) {
      this.lines -= this.lineCounts.shift()!;
      this.chunks.shift();
      dropped = true;
    }
    if (dropped) {
      this.firstTime = undefined;
      this.firstCount = 0;
    }
    return dropped;
  }

  text(): string {
    return this.chunks.join('');
  }

  clear(): void {
    this.chunks = [];
    this.lineCounts = [];
    this.lines = 0;
    this.firstTime = undefined;
    this.firstCount = 0;
  }
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
