/**
 * Bulk actions as data: each button is declared once (label, what it does,
 * whether the selection allows it). While one runs, it says so ("Stopping…"
 * with a spinner) and every button waits, so nothing is clicked twice.
 */
import { useState, type ReactNode } from 'react';

export interface BulkAction {
  id: string;
  label: string;
  /** Shown on the button while it runs ("Stopping…"). */
  busyLabel?: string;
  danger?: boolean;
  enabled: boolean;
  /** A promise keeps the bar busy until it settles; opening a dialog returns nothing. */
  run: () => Promise<unknown> | void;
}

export function BulkBar({ summary, actions, label = 'Bulk actions', children }: { summary: ReactNode; actions: BulkAction[]; label?: string; children?: ReactNode }) {
  const [running, setRunning] = useState<string | null>(null);
  const click = (a: BulkAction) => {
    const p = a.run();
    if (!p) return;
    setRunning(a.id);
    void Promise.resolve(p).finally(() => setRunning((r) => (r === a.id ? null : r)));
  };
  return (
    <div className="bulkbar" role="toolbar" aria-label={label} aria-busy={running !== null}>
      <span className="muted bulk-summary">{summary}</span>
      {children}
      {actions.map((a) => (
        <button key={a.id} className={a.danger ? 'danger' : undefined} disabled={!a.enabled || running !== null} aria-busy={running === a.id} data-busy={running === a.id || undefined} onClick={() => click(a)}>
          {running === a.id && <span className="spinner" aria-hidden="true" />}
          {running === a.id ? (a.busyLabel ?? `${a.label}…`) : a.label}
        </button>
      ))}
    </div>
  );
}
