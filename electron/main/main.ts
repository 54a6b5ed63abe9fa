/**
 * Berth's Electron main process, kept thin: single instance, the window, the
 * native menu, the tray, notifications and login items. Everything else is
 * the backend (plain Node), reached by the dashboard through the preload's
 * API and the contract over one IPC channel. The platform rules (macOS dock
 * re-open, hidden login items, template tray icons, no-tray desktops) live in
 * small modules next to this one, each unit-tested with Electron mocked.
 */
import { EventEmitter } from 'node:events';
import { app, Menu, Notification, dialog, nativeTheme, session, shell } from 'electron';
import { Backend, BERTH_APP_VERSION, type HostAdapter } from '../backend/backend.js';
import { createOwnEngine, offeredEngines } from '../backend/engines/own-engine.js';
import { berthPaths } from '../backend/paths.js';
import { TrayStateSource } from '../backend/tray/tray-state.js';
import type { TrayAction } from '../backend/tray/tray-menu.js';
import { runTrayAction, type TrayHost } from '../backend/tray/tray-actions.js';
import type { HostCommand } from '../contract/api.js';
import type { EngineState } from '../contract/models.js';
import { bridgeIpc } from './ipc.js';
import { buildAppMenu } from './menu.js';
import { assetPath, packagedDaemonScript, preloadPath, rendererDir } from './paths.js';
import { registerAppScheme, serveRenderer } from './protocol.js';
import { lockDownSession } from './security.js';
import { TrayController, trayIconFile } from './tray.js';
import { createMainWindow } from './window.js';
import { WindowManager } from './window-manager.js';
import { applyLoginItem, startedHidden } from './login-items.js';
import { traySupported } from './tray-support.js';

const log = (m: string) => process.stderr.write(`berth: ${m}\n`);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerAppScheme();
  let windows: WindowManager | undefined;
  let quitting = false;
  const commands = new EventEmitter();
  const showWindow = () => void windows?.show();
  const sendCommand = (c: HostCommand) => {
    showWindow();
    commands.emit('command', c);
  };

  app.on('second-instance', () => showWindow());
  app.on('before-quit', () => {
    quitting = true;
  });

  void app.whenReady().then(async () => {
    const paths = berthPaths();
    const daemonScript = packagedDaemonScript();
    const engineEnv = { ...process.env, ...(daemonScript ? { BERTHD_SCRIPT: daemonScript } : {}) };
    // Known before the window exists: whether closing it may hide it to a tray.
    const hasTray = await traySupported(process.platform, process.env);
    const host: HostAdapter = {
      capabilities: () => ({ desktop: true, pickFolder: true, startAtLogin: true, closeToTray: hasTray, platform: process.platform }),
      async pickFolder(title) {
        const win = windows?.current();
        const r = win ? await dialog.showOpenDialog(win, { title: title ?? 'Choose a folder', properties: ['openDirectory', 'createDirectory'] }) : { canceled: true, filePaths: [] };
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      openExternal: (url) => shell.openExternal(url),
      onCommand(listener) {
        commands.on('command', listener);
        return () => commands.off('command', listener);
      },
    };
    // Berth's own engine: berthd (or its system service) on Linux unless the settings pick the VM; the VM on macOS and Windows.
    const backend = new Backend({ host, paths, ownEngine: (settings) => createOwnEngine({ paths, vmSettings: () => settings.get().vm, env: engineEnv }), offeredEngines: (settings) => offeredEngines({ paths, vmSettings: () => settings.get().vm, env: engineEnv }), log, packaged: app.isPackaged, ...(daemonScript ? { daemonScript } : {}) });
    const settings = backend.settings;

    lockDownSession(session.defaultSession);
    serveRenderer(rendererDir);
    const stopIpc = bridgeIpc(backend.handlers, log);

    app.setAboutPanelOptions({
      applicationName: 'Berth',
      applicationVersion: BERTH_APP_VERSION,
      version: `Electron ${process.versions.electron}`,
      copyright: 'Copyright © Berth contributors',
      credits: 'A desktop container platform with its own Docker-compatible engine (berthd).',
      iconPath: assetPath('icons', 'icon-256.png'),
    });

    const applyDesktopSettings = () => {
      const s = settings.get();
      nativeTheme.themeSource = s.theme;
      try {
        applyLoginItem(app, process.platform, s.startAtLogin, process.env.APPIMAGE ?? process.execPath);
      } catch (err) {
        log(`could not update the login item: ${(err as Error).message}`);
      }
    };
    applyDesktopSettings();
    settings.onChange(applyDesktopSettings);

    Menu.setApplicationMenu(
      buildAppMenu(
        {
          send: sendCommand,
          quit: () => app.quit(),
          openUrl: (url) => void shell.openExternal(url),
          openLogs: () => void shell.openPath(paths.logDir),
          about: () => app.showAboutPanel(),
        },
        !app.isPackaged,
      ),
    );
    const hidden = startedHidden(app, process.platform, process.argv);
    let trayShown = false;
    windows = new WindowManager(() =>
      createMainWindow({ preload: preloadPath, icon: assetPath('icons', 'icon-256.png'), settings, isQuitting: () => quitting, hidden: hidden && trayShown, hasTray: () => trayShown }),
    );

    // Tray: state from the backend, menu from the pure builder.
    const traySource = new TrayStateSource(backend);
    const trayHost: TrayHost = {
      showWindow: () => showWindow(),
      navigate: (page) => sendCommand({ type: 'navigate', page }),
      openContainer: (id) => sendCommand({ type: 'open-container', id }),
      quit: () => app.quit(),
      notify: (title, body) => notify(title, body, true),
    };
    const run = (a: TrayAction) => void runTrayAction(backend, a, trayHost);
    let tray: TrayController | undefined;
    if (hasTray) {
      try {
        tray = new TrayController((state) => assetPath('tray', trayIconFile(state, process.platform)), run, showWindow);
        tray.update(traySource.state());
        traySource.onChange(() => tray?.update(traySource.state()));
        trayShown = true;
      } catch (err) {
        log(`no tray: ${(err as Error).message}`);
      }
    } else log('no tray on this desktop (no StatusNotifier host): closing the window quits Berth');
    const win = windows.ensure();

    // Read-only hooks for the Electron e2e test (never set in normal use).
    if (process.env.BERTH_TEST_HOOKS === '1') {
      (globalThis as Record<string, unknown>).berthTestHooks = { tray: () => (tray ? { icon: tray.iconState, items: tray.items } : null), runTrayAction: run };
    }

    // Notifications for engine state changes the user did not watch happen.
    const last = new Map<string, EngineState>();
    const notify = (title: string, body: string, force = false) => {
      if ((force || settings.get().notifications) && Notification.isSupported()) new Notification({ title, body, icon: assetPath('icons', 'icon-256.png') }).show();
    };
    backend.engines.onChange(() => {
      for (const e of backend.engines.list()) {
        const prev = last.get(e.id);
        const now = e.state();
        last.set(e.id, now);
        if (!prev || prev === now || e.kind === 'endpoint') continue;
        if (now === 'running' && (prev === 'starting' || prev === 'error')) notify('Berth', `${e.name} is running`);
        else if (now === 'error') notify('Berth', `${e.name} failed: ${e.error() ?? 'unknown error'}`);
        else if (now === 'stopped' && prev === 'stopping') notify('Berth', `${e.name} stopped`);
      }
    });

    const own = backend.ownEngine;
    if (own && settings.get().startEngineOnLaunch) {
      // After the window is up: probing and starting never delay the first paint.
      win.once('ready-to-show', () => {
        void own.probe().then((state) => (state === 'running' ? undefined : own.start().catch((err: Error) => log(`engine start failed: ${err.message}`))));
      });
    }

    // macOS: a click on the dock icon opens the window again, even after it was closed.
    app.on('activate', () => showWindow());
    app.on('window-all-closed', () => {
      // macOS apps stay until Quit; elsewhere the app lives on only in a tray the user can see.
      if (process.platform !== 'darwin' && !(settings.get().closeToTray && trayShown)) app.quit();
    });
    let disposed = false;
    app.on('will-quit', (event) => {
      if (disposed) return;
      // Hold the quit until settings written just before it are on disk.
      event.preventDefault();
      stopIpc();
      traySource.dispose();
      tray?.destroy();
      void backend.dispose().finally(() => {
        disposed = true;
        app.quit();
      });
    });
  });
}
