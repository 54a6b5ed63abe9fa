/**
 * Exec sessions live here, outside React: a session keeps its xterm.js
 * terminal and its exec stream while the user switches tabs or pages, and the
 * Terminal tab only attaches and detaches its element. Every fit (element
 * resized, window resized) resizes the exec's TTY.
 */
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import type { StreamHandle } from '../../../../electron/contract/client.js';
import { api } from '../../api/client.js';
import { terminalTheme } from '../../theme.js';

export type SessionStatus = 'connecting' | 'open' | 'exited' | 'error';

export interface SessionSnapshot {
  status: SessionStatus;
  shell: string | undefined;
  exitCode: number | null | undefined;
  error: string | undefined;
}

export class ExecSession {
  readonly term: Terminal;
  readonly element: HTMLDivElement;
  private readonly fit = new FitAddon();
  private handle: StreamHandle<'containers.exec'> | undefined;
  private opened = false;
  private observer: ResizeObserver | undefined;
  private snapshot: SessionSnapshot = { status: 'connecting', shell: undefined, exitCode: undefined, error: undefined };
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly engineId: string,
    readonly containerId: string,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'term-element';
    this.element.dataset.execTerminal = containerId;
    this.term = new Terminal({ fontSize: 13, fontFamily: 'ui-monospace, Menlo, Consolas, monospace', theme: terminalTheme(), cursorBlink: true, scrollback: 5000 });
    this.term.loadAddon(this.fit);
    Object.defineProperty(this.element, 'berthTerminal', { value: this.term });
    this.term.onData((data) => this.handle?.send({ type: 'stdin', data }));
    this.term.onResize(({ cols, rows }) => this.handle?.send({ type: 'resize', cols, rows }));
    // Ctrl+Shift+C / Ctrl+Shift+V copy and paste (plain Ctrl+C must still reach the shell).
    this.term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.key === 'C' || e.key === 'c') {
        void this.copy();
        return false;
      }
      if (e.key === 'V' || e.key === 'v') {
        void this.pasteFromClipboard();
        return false;
      }
      return true;
    });
  }

  get state(): SessionSnapshot {
    return this.snapshot;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<SessionSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l();
  }

  /** Shows the terminal in `parent` and keeps it fitted to it. */
  attach(parent: HTMLElement): void {
    parent.appendChild(this.element);
    if (!this.opened) {
      this.term.open(this.element);
      this.opened = true;
    }
    this.fitNow();
    this.observer = new ResizeObserver(() => this.fitNow());
    this.observer.observe(parent);
    if (!this.handle && this.snapshot.status === 'connecting') this.connect();
    this.term.focus();
  }

  detach(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    this.element.remove();
  }

  fitNow(): void {
    const el = this.element.parentElement;
    if (el && el.clientWidth > 0 && el.clientHeight > 0) this.fit.fit();
  }

  connect(): void {
    this.handle?.close();
    this.set({ status: 'connecting', exitCode: undefined, error: undefined });
    const handle = api().open(
      'containers.exec',
      { engineId: this.engineId, id: this.containerId, cols: this.term.cols, rows: this.term.rows },
      {
        onEvent: (e) => {
          if (e.type === 'data') this.term.write(e.data);
          else if (e.type === 'started') {
            this.set({ status: 'open', shell: e.shell });
            // The size may have changed while the exec was being created.
            handle.send({ type: 'resize', cols: this.term.cols, rows: this.term.rows });
          } else this.set({ status: 'exited', exitCode: e.code });
        },
        onEnd: (err) => {
          if (this.handle !== handle) return;
          this.handle = undefined;
          if (err) {
            this.term.write(`\r\n\x1b[31m${err.message}\x1b[0m\r\n`);
            this.set({ status: 'error', error: err.message });
          } else if (this.snapshot.status !== 'exited') this.set({ status: 'exited', exitCode: null });
        },
      },
    );
    this.handle = handle;
  }

  reconnect(): void {
    this.term.reset();
    this.connect();
    this.term.focus();
  }

  async copy(): Promise<void> {
    const text = this.term.getSelection();
    if (text) await navigator.clipboard.writeText(text);
  }

  async pasteFromClipboard(): Promise<void> {
    const text = await navigator.clipboard.readText();
    if (text) this.term.paste(text);
  }

  dispose(): void {
    this.handle?.close();
    this.handle = undefined;
    this.detach();
    this.term.dispose();
    this.listeners.clear();
  }
}

const sessions = new Map<string, ExecSession>();

export function getSession(engineId: string, containerId: string): ExecSession {
  const key = `${engineId}/${containerId}`;
  let s = sessions.get(key);
  if (!s) {
    s = new ExecSession(engineId, containerId);
    sessions.set(key, s);
  }
  return s;
}

/** Ends a container's session (the container was removed). */
export function closeSession(engineId: string, containerId: string): void {
  const key = `${engineId}/${containerId}`;
  sessions.get(key)?.dispose();
  sessions.delete(key);
}
