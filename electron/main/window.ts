/**
 * The dashboard window: sandboxed, context-isolated, no Node, shown as soon
 * as the page is painted (before any engine is probed), with its size and
 * position remembered. Closing hides it to the tray when the setting says so.
 */
import { BrowserWindow, screen } from 'electron';
import type { SettingsStore } from '../backend/settings/settings-store.js';
import type { WindowBounds } from '../contract/models.js';
import { APP_ORIGIN } from './protocol.js';
import { lockDownContents } from './security.js';
import { closeAction } from './tray-support.js';

export interface WindowOptions {
  preload: string;
  icon?: string;
  settings: SettingsStore;
  /** True once the user chose Quit: closing must not just hide. */
  isQuitting: () => boolean;
  /** Started at login: stay in the tray until opened. */
  hidden?: boolean;
  /** A tray icon the user can see (else closing the window closes it, whatever the setting). */
  hasTray?: () => boolean;
}

/** Saved bounds if they still fit on a connected display, else a centred default. */
export function restoreBounds(saved: WindowBounds | undefined, displays: Array<{ x: number; y: number; width: number; height: number }>): WindowBounds {
  const fallback = { width: 1280, height: 820 };
  if (!saved) return fallback;
  const { x, y, width, height } = saved;
  if (x === undefined || y === undefined) return { width, height };
  const visible = displays.some((d) => x + 100 > d.x && y + 50 > d.y && x < d.x + d.width - 100 && y < d.y + d.height - 50);
  return visible ? saved : { width, height };
}

export function createMainWindow(o: WindowOptions): BrowserWindow {
  const bounds = restoreBounds(o.settings.get().window, screen.getAllDisplays().map((d) => d.workArea));
  const win = new BrowserWindow({
    ...bounds,
    minWidth: 760,
    minHeight: 480,
    show: false,
    title: 'Berth',
    ...(o.icon ? { icon: o.icon } : {}),
    backgroundColor: '#0d1117',
    webPreferences: {
      preload: o.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
    },
  });
  if (bounds.maximized) win.maximize();
  lockDownContents(win.webContents);
  if (!o.hidden) win.once('ready-to-show', () => win.show());

  let saveTimer: NodeJS.Timeout | undefined;
  const save = () => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      if (win.isDestroyed()) return;
      const b = win.getNormalBounds();
      void o.settings.saveWindow({ x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() });
    }, 400);
  };
  win.on('resize', save);
  win.on('move', save);
  win.on('maximize', save);
  win.on('unmaximize', save);
  win.on('close', (event) => {
    if (closeAction(o.settings.get().closeToTray, o.hasTray?.() ?? true, o.isQuitting()) === 'hide') {
      event.preventDefault();
      win.hide();
    }
  });
  void win.loadURL(`${APP_ORIGIN}/index.html#/containers`);
  return win;
}
