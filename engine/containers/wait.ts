/**
 * `docker wait`: the waiter is registered when this returns, so the caller can flush its
 * response headers at once (the CLI sends start only once it has them).
 */
import type { WaitResponse } from '../api/types.js';
import type { Container, WaitCondition } from './container.js';

export function waitContainer(c: Container, condition: WaitCondition): Promise<WaitResponse> {
  const result = (code: number, error?: string): WaitResponse => ({ StatusCode: code, Error: error ? { Message: error } : null });
  switch (condition) {
    case 'not-running':
      if (!c.isRunning() && c.status !== 'restarting') return Promise.resolve(result(c.record.state.exitCode));
      return c.onNextExit().then((e) => result(e.exitCode, e.error));
    case 'next-exit':
      return c.onNextExit().then((e) => result(e.exitCode, e.error));
    case 'removed':
      return c.onRemoved().then((e) => result(e.exitCode, e.error));
  }
}
