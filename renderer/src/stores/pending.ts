/**
 * Actions in flight per object (container ids, volume names, ...): a row
 * shows "Stopping…" and its buttons are disabled from the click until the
 * engine answers, so a slow stop never looks like nothing happened.
 */
import { create } from 'zustand';

export type PendingOp = 'starting' | 'stopping' | 'restarting' | 'pausing' | 'unpausing' | 'killing' | 'removing';

export const usePending = create<{ ops: ReadonlyMap<string, PendingOp> }>()(() => ({ ops: new Map() }));

/** Marks the ids as busy with op while fn runs. */
export async function withPending<T>(ids: readonly string[], op: PendingOp, fn: () => Promise<T>): Promise<T> {
  usePending.setState((s) => {
    const ops = new Map(s.ops);
    for (const id of ids) ops.set(id, op);
    return { ops };
  });
  try {
    return await fn();
  } finally {
    usePending.setState((s) => {
      const ops = new Map(s.ops);
      for (const id of ids) if (ops.get(id) === op) ops.delete(id);
      return { ops };
    });
  }
}

export function usePendingOp(id: string): PendingOp | undefined {
  return usePending((s) => s.ops.get(id));
}
