/**
 * The desktop shell's platform rules with Electron mocked (its binary cannot
 * exist here): the window coming back on a dock click, hidden login items,
 * template tray icons on macOS, About and Help menus, and closing the window
 * where no tray can be seen.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi, beforeEach } from 'vitest';

const created: FakeWindow[] = [];
const images: Array<{ path: string; template: boolean }> = [];

class FakeWindow extends EventEmitter {
  destroyed = false;
  minimized = false;
  visible = false;
  focused = false;
  webContents = { on: vi.fn(), setWindowOpenHandler: vi.fn() };
  constructor(readonly opts: Record<string, unknown> = {}) {
    super();
    created.push(this);
  }
  isDestroyed() {
    return this.destroyed;
  }
  isMinimized() {
    return this.minimized;
  }
  restore() {
    this.minimized = false;
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {
    this.focused = true;
  }
  maximize() {}
  isMaximized() {
    return false;
  }
  getNormalBounds() {
    return { x: 0, y: 0, width: 1000, height: 700 };
  }
  loadURL() {
    return Promise.resolve();
  }
  /** What the user closing the window leads to: true when it really closes. */
  userClose(): boolean {
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    if (!prevented) {
      this.destroyed = true;
      this.emit('closed');
    }
    return !prevented;
  }
}

vi.mock('electron', () => {
  class Tray extends EventEmitter {
    image: unknown;
    constructor(image: unknown) {
      super();
      this.image = image;
    }
    setImage(i: unknown) {
      this.image = i;
    }
    setToolTip() {}
    setContextMenu() {}
    destroy() {}
  }
  return {
    BrowserWindow: FakeWindow,
    Tray,
    Menu: { buildFromTemplate: (t: unknown) => ({ template: t }), setApplicationMenu: vi.fn() },
    nativeImage: {
      createFromPath: (p: string) => {
        const img = { path: p, template: false, setTemplateImage: (on: boolean) => (img.template = on) };
        images.push(img);
        return img;
      },
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    shell: { openExternal: vi.fn() },
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
  };
});

const { WindowManager } = await import('./window-manager.js');
const { applyLoginItem, startedHidden } = await import('./login-items.js');
const { traySupported, closeAction } = await import('./tray-support.js');
const { TrayController, trayIconFile } = await import('./tray.js');
const { menuTemplate, DOCS_URL } = await import('./menu.js');
const { createMainWindow } = await import('./window.js');

beforeEach(() => {
  created.length = 0;
  images.length = 0;
});

describe('the dashboard window', () => {
  it('comes back after it was closed (macOS dock click): a new window, focused once painted', () => {
    const wm = new WindowManager(() => new FakeWindow() as never);
    const first = wm.ensure() as unknown as FakeWindow;
    first.destroyed = true;
    first.emit('closed');
    expect(wm.current()).toBeNull();
    const second = wm.show() as unknown as FakeWindow;
    expect(second).not.toBe(first);
    expect(created).toHaveLength(2);
    expect(second.focused).toBe(false);
    second.emit('ready-to-show');
    expect(second.visible && second.focused).toBe(true);
  });

  it('an existing window is restored from the dock or taskbar and focused, not duplicated', () => {
    const wm = new WindowManager(() => new FakeWindow() as never);
    const w = wm.ensure() as unknown as FakeWindow;
    w.minimized = true;
    wm.show();
    expect(created).toHaveLength(1);
    expect(w.minimized).toBe(false);
    expect(w.visible && w.focused).toBe(true);
  });

  it('closing hides to the tray only where a tray can be seen', () => {
    const settings = { get: () => ({ closeToTray: true }), saveWindow: vi.fn() };
    const withTray = createMainWindow({ preload: 'p', settings: settings as never, isQuitting: () => false, hasTray: () => true }) as unknown as FakeWindow;
    expect(withTray.userClose()).toBe(false);
    const noTray = createMainWindow({ preload: 'p', settings: settings as never, isQuitting: () => false, hasTray: () => false }) as unknown as FakeWindow;
    expect(noTray.userClose()).toBe(true);
    const quitting = createMainWindow({ preload: 'p', settings: settings as never, isQuitting: () => true, hasTray: () => true }) as unknown as FakeWindow;
    expect(quitting.userClose()).toBe(true);
    expect(closeAction(false, true, false)).toBe('close');
  });
});

describe('login items', () => {
  it('start hidden on every platform', () => {
    const app = { setLoginItemSettings: vi.fn() };
    applyLoginItem(app, 'darwin', true, '/Applications/Berth.app');
    expect(app.setLoginItemSettings).toHaveBeenLastCalledWith({ openAtLogin: true, openAsHidden: true });
    applyLoginItem(app, 'win32', true, 'C:\\Berth\\Berth.exe');
    expect(app.setLoginItemSettings).toHaveBeenLastCalledWith({ openAtLogin: true, args: ['--hidden'] });
    const linux = vi.fn();
    applyLoginItem(app, 'linux', false, '/opt/Berth/berth', linux);
    expect(linux).toHaveBeenCalledWith(false, '/opt/Berth/berth');
    expect(app.setLoginItemSettings).toHaveBeenCalledTimes(2);
  });

  it('a launch from the login item stays in the tray: --hidden on Windows and Linux, wasOpenedAsHidden/AtLogin on macOS', () => {
    const s = (v: object) => ({ getLoginItemSettings: () => v as never });
    expect(startedHidden(s({}), 'win32', ['berth.exe', '--hidden'])).toBe(true);
    expect(startedHidden(s({}), 'linux', ['berth'])).toBe(false);
    // macOS does not pass arguments to login items: it says how the app was opened.
    expect(startedHidden(s({ wasOpenedAsHidden: true }), 'darwin', ['Berth'])).toBe(true);
    expect(startedHidden(s({ wasOpenedAtLogin: true }), 'darwin', ['Berth'])).toBe(true);
    expect(startedHidden(s({ wasOpenedAtLogin: false }), 'darwin', ['Berth'])).toBe(false);
  });
});

describe('tray', () => {
  it('uses template images on macOS (tinted by the system), coloured icons elsewhere', () => {
    expect(trayIconFile('running', 'darwin')).toBe('tray-runningTemplate.png');
    expect(trayIconFile('error', 'linux')).toBe('tray-error.png');
    const t = new TrayController((s) => `/assets/tray/${trayIconFile(s, 'darwin')}`, vi.fn(), vi.fn(), 'darwin');
    t.update({ engines: [], activeId: null, modelStatus: 'idle', running: [] });
    expect(images.map((i) => [i.path, i.template])).toEqual([['/assets/tray/tray-stoppedTemplate.png', true]]);
    new TrayController((s) => `/assets/tray/${trayIconFile(s, 'linux')}`, vi.fn(), vi.fn(), 'linux');
    expect(images.at(-1)).toMatchObject({ path: '/assets/tray/tray-stopped.png', template: false });
  });

  it('on Linux, a tray counts only with a StatusNotifier host (GNOME without AppIndicator has none)', async () => {
    const env = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' };
    expect(await traySupported('linux', env, async () => true)).toBe(true);
    expect(await traySupported('linux', env, async () => false)).toBe(false);
    expect(await traySupported('linux', { ...env, XDG_CURRENT_DESKTOP: 'ubuntu:GNOME' }, async () => undefined)).toBe(false);
    expect(await traySupported('linux', { ...env, XDG_CURRENT_DESKTOP: 'KDE' }, async () => undefined)).toBe(true);
    expect(await traySupported('linux', {}, async () => true)).toBe(false);
    expect(await traySupported('darwin', {}, async () => false)).toBe(true);
    expect(await traySupported('win32', {}, async () => false)).toBe(true);
  });
});

describe('menus', () => {
  type Item = { label?: string; role?: string; submenu?: Item[]; click?: () => void };
  const actions = () => ({ send: vi.fn(), quit: vi.fn(), openUrl: vi.fn(), openLogs: vi.fn(), about: vi.fn() });
  const find = (items: Item[], label: string): Item | undefined => {
    for (const i of items) {
      if (i.label === label) return i;
      const inner = i.submenu && find(i.submenu, label);
      if (inner) return inner;
    }
    return undefined;
  };

  for (const platform of ['linux', 'win32', 'darwin'] as const) {
    it(`${platform}: a Help menu and an About panel`, () => {
      const a = actions();
      const t = menuTemplate(a, false, platform) as Item[];
      const help = t.find((i) => i.role === 'help')!;
      expect(help.submenu!.map((i) => i.label).filter(Boolean)).toEqual(expect.arrayContaining(['Berth Documentation', 'Report an Issue…', 'Troubleshoot', 'Show Logs Folder']));
      find(t, 'Berth Documentation')!.click!();
      expect(a.openUrl).toHaveBeenCalledWith(DOCS_URL);
      find(t, 'About Berth')!.click!();
      expect(a.about).toHaveBeenCalled();
      find(t, 'Troubleshoot')!.click!();
      expect(a.send).toHaveBeenCalledWith({ type: 'navigate', page: 'troubleshoot' });
      // About sits in the app menu on macOS, in Help elsewhere; Quit is there once.
      if (platform === 'darwin') expect(t[0]!.submenu!.some((i) => i.label === 'About Berth')).toBe(true);
      else expect(help.submenu!.some((i) => i.label === 'About Berth')).toBe(true);
      const quits: Item[] = [];
      const walk = (items: Item[]) => items.forEach((i) => (i.label === 'Quit Berth' ? quits.push(i) : i.submenu && walk(i.submenu)));
      walk(t);
      expect(quits).toHaveLength(1);
      expect(find(t, 'Disk Usage')).toBeDefined();
    });
  }
});
