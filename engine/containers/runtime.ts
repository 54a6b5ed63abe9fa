/**
 * The seam between container logic and the OCI runtime (podman's OCIRuntime, libpod/oci.go):
 * everything the lifecycle asks of "the thing that runs processes" — create under a monitor,
 * start, signal, pause, update, release after exit, destroy leftovers, exits and live-restore
 * checks. conmon + runc implement it (conmon-runtime.ts); unit tests of the state machine use
 * an in-memory fake. Callers never see bundle dirs, state roots or exit files: they belong to
 * the implementation.
 */
import type { Container, MonitorRef } from './container.js';
import type { StdinChannel } from './attach.js';

/** How the runtime should create a container's process. */
export interface RuntimeCreateOptions {
  /** The OCI runtime spec (config.json). */
  spec: object;
  terminal: boolean;
  stdin: boolean;
  leaveStdinOpen: boolean;
  /** Where the monitor writes the output (k8s-file format). */
  logPath: string;
  /** Size at which the monitor truncates the log itself (one file, no rotation). */
  logSizeMax?: number | undefined;
  /** Called once the monitor process exists and the runtime is creating the container: work that can overlap it starts here. */
  onSpawned?: () => void;
}

export interface CreatedProcess {
  /** Host PID of the container's init process (created, not yet started). */
  pid: number;
  monitor: MonitorRef;
}

/** What a container's process left when it exited. */
export interface ReleasedProcess {
  oomKilled: boolean;
}

/** What may be left of a container whose record says it is not running (a daemon killed mid-start). */
export interface Leftovers {
  /** A live monitor process for the container. */
  monitor: boolean;
  /** Runtime state (runc's) for the container. */
  state: boolean;
  /** The container's bundle dir. */
  bundle: boolean;
}

export interface ExecProcessOptions {
  /** Exec session ID (names its state dir). */
  sessionId: string;
  /** The OCI process spec. */
  process: object;
  terminal: boolean;
  stdin: boolean;
}

export interface ExecProcess {
  pid: number;
  /** The session's output log. */
  logPath: string;
  /** Resolves with the exit code. */
  exitCode: Promise<number>;
  /** Stdin of the session (when asked for). */
  stdin: StdinChannel | undefined;
  resize(height: number, width: number): void;
  /** Removes the session's state. */
  cleanup(): Promise<void>;
}

export type ExitListener = (id: string, exitCode: number, exitedAtMs: number) => void;

export interface ContainerRuntime {
  /** Creates the container's process under a monitor; the process waits for start(). */
  create(c: Container, opts: RuntimeCreateOptions): Promise<CreatedProcess>;
  /** Lets a created process run. */
  start(c: Container, pid: number): Promise<void>;
  /** Sends a signal to the container's init (reaching frozen containers too). */
  signal(c: Container, signal: number): Promise<void>;
  pause(c: Container): Promise<void>;
  resume(c: Container): Promise<void>;
  /** Applies new resource limits (OCI LinuxResources) to a running container. */
  update(c: Container, resources: object): Promise<void>;
  /** After the process exited: drops runtime state and the bundle. */
  release(c: Container): Promise<ReleasedProcess>;
  /** Removes every trace of the container in the runtime, killing whatever still runs (failed starts, rm, orphans). */
  destroy(c: Container): Promise<void>;
  /** What exists in the runtime for a container (reconcile). */
  leftovers(c: Container): Leftovers;
  /** True while the recorded monitor is the same live process (pid and start time). */
  monitorAlive(ref: MonitorRef): boolean;
  /** Host PIDs of the container's processes. */
  pids(c: Container): Promise<number[]>;
  resizeTerminal(c: Container, height: number, width: number): void;
  /** The stdin connection of a container's monitor (shared by attached clients). */
  stdinChannel(c: Container): StdinChannel;
  /** Forgets the stdin connection (closed) at exit. */
  closeStdin(c: Container): void;
  /** An extra process in a running container, under its own monitor. */
  exec(c: Container, opts: ExecProcessOptions): Promise<ExecProcess>;

  // ---- exits ----
  /** Starts delivering exits (also the ones that happened while nobody watched). */
  watchExits(listener: ExitListener): void;
  /** A recorded exit, if the process exited. */
  exitOf(id: string): { code: number; at: number } | undefined;
  /** Forgets a recorded exit (after it is saved in the container's record). */
  clearExit(id: string): void;
  /** Prepares the runtime's directories; removes exec state left by an earlier daemon. */
  init(): Promise<void>;
  shutdown(): void;
}
