/**
 * For component tests: a real BerthClient over an in-memory port whose
 * "backend" is a set of functions, so components run their real calls and
 * stream handling against scripted answers.
 */
import { BerthClient } from '../../electron/contract/client.js';
import type { ClientMessage, MessagePort, ServerMessage } from '../../electron/contract/protocol.js';
import { setClientForTests } from './api/client.js';

export interface FakeBackend {
  calls: Array<{ method: string; params: unknown }>;
  opened: Array<{ stream: string; params: unknown; id: number }>;
  /** Sends an event (or the end) to an open stream. */
  emit(stream: string, event: unknown): void;
  end(stream: string, error?: string): void;
}

export function installFakeBackend(answers: Record<string, (params: never) => unknown>): FakeBackend {
  const listeners = new Set<(m: ServerMessage) => void>();
  const deliver = (m: ServerMessage) => queueMicrotask(() => listeners.forEach((l) => l(m)));
  const fake: FakeBackend = {
    calls: [],
    opened: [],
    emit(stream, event) {
      for (const o of fake.opened.filter((x) => x.stream === stream)) deliver({ kind: 'event', id: o.id, event });
    },
    end(stream, error) {
      for (const o of fake.opened.filter((x) => x.stream === stream)) deliver(error ? { kind: 'end', id: o.id, error: { message: error } } : { kind: 'end', id: o.id });
    },
  };
  const port: MessagePort = {
    send(m: ClientMessage) {
      if (m.kind === 'call') {
        fake.calls.push({ method: m.method, params: m.params });
        const answer = answers[m.method];
        if (!answer) return deliver({ kind: 'error', id: m.id, error: { message: `${m.method} is not answered in this test`, status: 501 } });
        Promise.resolve()
          .then(() => answer(m.params as never))
          .then(
            (value) => deliver({ kind: 'result', id: m.id, value }),
            (err: Error & { status?: number }) => deliver({ kind: 'error', id: m.id, error: { message: err.message, ...(err.status ? { status: err.status } : {}) } }),
          );
      } else if (m.kind === 'open') fake.opened.push({ stream: m.stream, params: m.params, id: m.id });
    },
    onMessage: (l) => (listeners.add(l), () => listeners.delete(l)),
  };
  setClientForTests(new BerthClient(port));
  return fake;
}
