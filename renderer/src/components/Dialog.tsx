/** A modal dialog: focus moves in on open and back out on close; Escape cancels. */
import { useEffect, useId, useRef, type ReactNode } from 'react';

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
}

export function Dialog({ title, onClose, children, footer, wide }: DialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>('input, select, textarea, button:not([data-close])');
    (first ?? ref.current)?.focus();
    return () => previous?.focus?.();
  }, []);
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        className={`dialog ${wide ? 'wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            onClose();
          }
        }}
      >
        <header>
          <h2 id={titleId}>{title}</h2>
          <button className="icon" data-close aria-label="Close dialog" onClick={onClose}>
            ×
          </button>
        </header>
        <div className="dialog-body">{children}</div>
        {footer && <footer>{footer}</footer>}
      </div>
    </div>
  );
}

export interface FormDialogProps {
  title: string;
  /** The primary button's label. */
  submitLabel: string;
  /** False disables the primary button (Enter in a field still submits, as the form decides). */
  canSubmit?: boolean;
  onSubmit: () => void;
  onClose: () => void;
  /** Shown under the form. */
  error?: string;
  children: ReactNode;
}

/** A dialog around a small form: Cancel and a primary button, Enter submits, the error below. */
export function FormDialog({ title, submitLabel, canSubmit = true, onSubmit, onClose, error, children }: FormDialogProps) {
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={!canSubmit} onClick={onSubmit}>
            {submitLabel}
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit();
        }}
      >
        {children}
      </form>
      {error && <pre className="error-box">{error}</pre>}
    </Dialog>
  );
}

export interface ConfirmProps {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** An extra option such as "Force" shown as a checkbox. */
  option?: { label: string; value: boolean; onChange: (v: boolean) => void };
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, message, confirmLabel, danger, option, onConfirm, onCancel }: ConfirmProps) {
  return (
    <Dialog
      title={title}
      onClose={onCancel}
      footer={
        <>
          <button onClick={onCancel}>Cancel</button>
          <button className={danger ? 'danger' : 'primary'} onClick={onConfirm}>
            {confirmLabel}
          </button>
        </>
      }
    >
      <div className="confirm-message">{message}</div>
      {option && (
        <label className="check">
          <input type="checkbox" checked={option.value} onChange={(e) => option.onChange(e.target.checked)} /> {option.label}
        </label>
      )}
    </Dialog>
  );
}
