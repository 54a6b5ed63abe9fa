/**
 * A container's output to clients: `docker logs` (the log file with json-file semantics) and
 * `docker attach` (output from the log file, input to the monitor's stdin). Each call checks
 * what can fail before anything is sent, then returns whether the stream is a TTY's (the API
 * layer picks its framing from that) and a function that streams to the client's sink.
 */
import { ConflictError, InvalidParameterError } from '../errdefs.js';
import type { Container } from './container.js';
import type { Lifecycle } from './lifecycle.js';
import { nanosToLogTime, readLogs } from './logs.js';
import { runAttach, type AttachOptions } from './attach.js';
import type { ClientStreams, OutputSink } from './streams.js';

export interface LogsOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  /** Last N lines only. */
  tail?: number | undefined;
  /** Unix time in nanoseconds. */
  since?: bigint | undefined;
  until?: bigint | undefined;
  timestamps: boolean;
}

export interface LogsStream {
  tty: boolean;
  /** Streams until the end of the log (with follow: until the container stops) or until `signal` aborts. */
  stream(sink: OutputSink, signal: AbortSignal): Promise<void>;
}

export function containerLogs(lc: Lifecycle, c: Container, o: LogsOptions): LogsStream {
  if (c.record.hostConfig.LogConfig.Type === 'none') throw new InvalidParameterError('configured logging driver does not support reading');
  return {
    tty: c.record.config.Tty,
    stream: async (sink, signal) => {
      const stopped = c.isRunning() ? c.onNextExit().then(() => undefined) : Promise.resolve();
      const { maxFile } = lc.logLimits(c);
      await readLogs(
        c.record.logPath,
        maxFile,
        {
          stdout: o.stdout,
          stderr: o.stderr,
          follow: o.follow,
          ...(o.tail !== undefined ? { tail: o.tail } : {}),
          ...(o.since !== undefined ? { since: nanosToLogTime(o.since) } : {}),
          ...(o.until !== undefined ? { until: nanosToLogTime(o.until) } : {}),
          withTime: o.timestamps,
        },
        o.timestamps ? (e) => sink.writeLine(e.stream, e.content, !e.partial, `${e.time}Z `) : (e) => sink.writeLine(e.stream, e.content, !e.partial),
        { stopped, signal },
      );
      await sink.flush();
    },
  };
}

/** What an attach asks for: the same options the attach loop runs with. */
export type AttachRequest = AttachOptions;

export interface AttachSession {
  tty: boolean;
  /** Runs until the process stops, the client detaches or goes away; ends the client's connection. */
  run(client: ClientStreams): Promise<'stopped' | 'detached' | 'gone'>;
}

export function attachContainer(lc: Lifecycle, c: Container, o: AttachRequest): AttachSession {
  if (c.status === 'removing' || c.removed) throw new ConflictError(`container ${c.id} is being removed`);
  const r = c.record;
  const wantStdin = o.stdin && r.config.OpenStdin;
  const channel = wantStdin ? lc.d.runtime.stdinChannel(c) : undefined;
  return {
    tty: r.config.Tty,
    run: async (client) => {
      const stopped = c.onNextStop();
      // A running container's monitor is up: connect now. Otherwise the start activates the channel.
      if (channel && c.isRunning()) await channel.activate();
      lc.event(c, 'attach');
      return runAttach(
        {
          logPath: lc.outputPath(c),
          maxLogFiles: lc.logLimits(c).maxFile,
          tty: r.config.Tty,
          stdin: channel,
          closeStdinOnEof: r.config.StdinOnce,
          stopped: c.isRunning() || c.status === 'created' || c.status === 'exited' || c.status === 'restarting' ? stopped : Promise.resolve(),
        },
        client,
        { ...o, stdin: wantStdin },
      );
    },
  };
}
