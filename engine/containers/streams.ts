/**
 * Where a container's output goes and where a client's input comes from, without HTTP: the
 * API layer frames output (Docker's stdcopy headers, or raw bytes for a TTY) and hands the
 * domain these ports.
 */
import type { Readable } from 'node:stream';

/** Framed output to one client; a promise from a write means "wait, the client is slow". */
export interface OutputSink {
  /** One log line: [prefix] content [newline]. */
  writeLine(stream: number, content: Buffer, newline: boolean, prefix?: string): void | Promise<void>;
  write(stream: number, ...parts: Array<Buffer | string>): void | Promise<void>;
  flush(): Promise<void>;
}

/** A client connected to a process (attach, exec): its input, its output, and how its connection ends. */
export interface ClientStreams {
  /** Client-to-process bytes; ends when the client half-closes (stdin EOF). */
  input: Readable;
  output: OutputSink;
  /** Ends the connection once the output is flushed. */
  end(): void;
  /** Resolves when the client has gone. */
  closed: Promise<void>;
}
