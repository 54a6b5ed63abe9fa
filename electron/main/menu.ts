/**
 * The native application menu: pages with accelerators, the palette, pull,
 * reload of the data, the usual edit/window roles, and on every platform an
 * About panel and a Help menu (documentation, issues, logs, troubleshooting).
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { HostCommand } from '../contract/api.js';

export const DOCS_URL = 'https://github.com/berth-dev/berth#readme';
export const ISSUES_URL = 'https://github.com/berth-dev/berth/issues';

export interface MenuActions {
  send: (c: HostCommand) => void;
  quit: () => void;
  openUrl: (url: string) => void;
  /** Opens the folder with Berth's logs in the file manager. */
  openLogs: () => void;
  /** The About panel (app.showAboutPanel). */
  about: () => void;
}

export function menuTemplate(a: MenuActions, devTools: boolean, platform: NodeJS.Platform = process.platform): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const send = a.send;
  const quit = a.quit;
  const page = (label: string, p: Extract<HostCommand, { type: 'navigate' }>['page'], key: string): MenuItemConstructorOptions => ({
    label,
    accelerator: `CmdOrCtrl+${key}`,
    click: () => send({ type: 'navigate', page: p }),
  });
  const template: MenuItemConstructorOptions[] = [
    ...(isMac
      ? [
          {
            label: 'Berth',
            submenu: [
              { label: 'About Berth', click: a.about },
              { type: 'separator' as const },
              { label: 'Settings…', accelerator: 'Cmd+,', click: () => send({ type: 'navigate', page: 'settings' }) },
              { type: 'separator' as const },
              { role: 'services' as const },
              { type: 'separator' as const },
              { role: 'hide' as const },
              { role: 'hideOthers' as const },
              { role: 'unhide' as const },
              { type: 'separator' as const },
              { label: 'Quit Berth', accelerator: 'Cmd+Q', click: quit },
            ],
          },
        ]
      : []),
    {
      label: 'File',
      submenu: [
        { label: 'Pull Image…', accelerator: 'CmdOrCtrl+Shift+P', click: () => send({ type: 'pull' }) },
        // On macOS, Settings and Quit live in the app menu.
        ...(isMac
          ? [{ role: 'close' as const }]
          : [
              { label: 'Settings…', accelerator: 'Ctrl+,', click: () => send({ type: 'navigate', page: 'settings' }) },
              { type: 'separator' as const },
              { label: 'Quit Berth', accelerator: 'Ctrl+Q', click: quit },
            ]),
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        page('Containers', 'containers', '1'),
        page('Images', 'images', '2'),
        page('Volumes', 'volumes', '3'),
        page('Networks', 'networks', '4'),
        page('Disk Usage', 'disk', '5'),
        page('Engines', 'engines', '6'),
        page('Troubleshoot', 'troubleshoot', '7'),
        { type: 'separator' },
        { label: 'Command Palette', accelerator: 'CmdOrCtrl+K', click: () => send({ type: 'palette' }) },
        { label: 'Refresh', accelerator: 'CmdOrCtrl+R', click: () => send({ type: 'resync' }) },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'togglefullscreen' },
        ...(devTools ? [{ role: 'toggleDevTools' as const }] : []),
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'Berth Documentation', click: () => a.openUrl(DOCS_URL) },
        { label: 'Report an Issue…', click: () => a.openUrl(ISSUES_URL) },
        { type: 'separator' },
        { label: 'Troubleshoot', click: () => send({ type: 'navigate', page: 'troubleshoot' }) },
        { label: 'Show Logs Folder', click: a.openLogs },
        // macOS has About in the app menu; elsewhere it lives here.
        ...(isMac ? [] : [{ type: 'separator' as const }, { label: 'About Berth', click: a.about }]),
      ],
    },
  ];
  return template;
}

export function buildAppMenu(a: MenuActions, devTools: boolean): Menu {
  return Menu.buildFromTemplate(menuTemplate(a, devTools));
}
