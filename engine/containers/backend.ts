/**
 * The narrow container backend that code driving containers step by step — the Dockerfile
 * builder first — depends on: create, start, wait, attach to output, remove (commit lives in
 * images/commit.ts). ContainerService implements it; a test can stand a ContainerService over
 * the fakes in testing/fakes.ts in for it, or any fake of its own.
 */
import type { WaitResponse } from '../api/types.js';
import type { WaitCondition } from './container.js';
import type { CreateBody } from './create-request.js';
import type { CreateResult } from './create.js';
import type { RemoveOptions } from './lifecycle.js';
import type { AttachRequest, AttachSession, LogsOptions, LogsStream } from './output.js';

export interface ContainerLifecycleBackend {
  create(body: CreateBody, name: string | null): Promise<CreateResult>;
  start(ref: string): Promise<void>;
  /** The waiter is registered when this returns (call it before start for next-exit). */
  wait(ref: string, condition: WaitCondition): Promise<WaitResponse>;
  /** Output as `docker logs` reads it (with follow: until the container stops). */
  logs(ref: string, opts: LogsOptions): LogsStream;
  attach(ref: string, opts: AttachRequest): AttachSession;
  remove(ref: string, opts: RemoveOptions): Promise<void>;
}
