/** The native application menu: pages with accelerators, the palette, pull, reload of the data, and the usual edit/window roles. */
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { HostCommand } from '../contract/api.js';

export function buildAppMenu(send: (c: HostCommand) => void, quit: () => void, devTools: boolean): Menu {
  const isMac = process.platform === 'darwin';
  const page = (label: string, p: Extract<HostCommand, { type: 'navigate' }>['page'], key: string): MenuItemConstructorOptions => ({
    label,
    accelerator: `CmdOrCtrl+${key}`,
    click: () => send({ type: 'navigate', page: p }),
  });
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Pull Image…', accelerator: 'CmdOrCtrl+Shift+P', click: () => send({ type: 'pull' }) },
        { label: 'Settings…', accelerator: 'CmdOrCtrl+,', click: () => send({ type: 'navigate', page: 'settings' }) },
        { type: 'separator' },
        { label: 'Quit Berth', accelerator: 'CmdOrCtrl+Q', click: quit },
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
        page('Engines', 'engines', '5'),
        page('Troubleshoot', 'troubleshoot', '6'),
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
  ];
  return Menu.buildFromTemplate(template);
}
