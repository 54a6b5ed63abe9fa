/**
 * The one dashboard window, whatever happened to it: shown and focused when
 * it exists, restored when minimized, made anew when it was closed (macOS
 * keeps the app running with no window, and a dock click must bring one
 * back; a second instance or the tray asks the same).
 */
import type { BrowserWindow } from 'electron';

export class WindowManager {
  private win: BrowserWindow | null = null;

  constructor(private readonly create: () => BrowserWindow) {}

  /** The live window, if there is one. */
  current(): BrowserWindow | null {
    return this.win && !this.win.isDestroyed() ? this.win : null;
  }

  /** Creates the window (hidden or not, as create decides) if there is none. */
  ensure(): BrowserWindow {
    const live = this.current();
    if (live) return live;
    const win = this.create();
    this.win = win;
    win.once('closed', () => {
      if (this.win === win) this.win = null;
    });
    return win;
  }

  /** Brings the window to the front, making one when it was closed. */
  show(): BrowserWindow {
    const existed = this.current();
    const win = this.ensure();
    if (!existed) {
      // A fresh window shows itself once painted (window.ts); asking now would flash an empty frame.
      win.once('ready-to-show', () => this.focus(win));
      return win;
    }
    this.focus(win);
    return win;
  }

  private focus(win: BrowserWindow): void {
    if (win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  }
}
