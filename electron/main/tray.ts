/**
 * The tray: a thin adapter that turns buildTrayMenu(state) into an Electron
 * menu, sets the icon for the state, and runs the chosen action.
 */
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import { buildTrayMenu, trayIconState, trayTooltip, type TrayAction, type TrayIconState, type TrayItem, type TrayState } from '../backend/tray/tray-menu.js';

/** The icon file for a state: macOS menu bars take template images (black and alpha, tinted by the system). */
export function trayIconFile(state: TrayIconState, platform: NodeJS.Platform): string {
  return platform === 'darwin' ? `tray-${state}Template.png` : `tray-${state}.png`;
}

function loadIcon(file: string, platform: NodeJS.Platform): Electron.NativeImage {
  const img = nativeImage.createFromPath(file);
  if (platform === 'darwin') img.setTemplateImage(true);
  return img;
}

export function toElectronMenu(items: TrayItem[], run: (a: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((i): MenuItemConstructorOptions => {
    if (i.type === 'separator') return { type: 'separator' };
    const o: MenuItemConstructorOptions = { id: i.id, label: i.label, enabled: i.enabled };
    if (i.checked !== undefined) {
      o.type = 'radio';
      o.checked = i.checked;
    }
    if (i.submenu) o.submenu = toElectronMenu(i.submenu, run);
    const action = i.action;
    if (action) o.click = () => run(action);
    return o;
  });
}

export class TrayController {
  private readonly tray: Tray;
  private lastIcon = '';
  /** What the menu shows now (for the Electron e2e test). */
  items: TrayItem[] = [];
  iconState: ReturnType<typeof trayIconState> = 'stopped';

  constructor(
    private readonly iconFor: (state: ReturnType<typeof trayIconState>) => string,
    private readonly run: (a: TrayAction) => void,
    onClick: () => void,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {
    this.lastIcon = iconFor('stopped');
    this.tray = new Tray(loadIcon(this.lastIcon, platform));
    this.tray.on('click', onClick);
  }

  update(state: TrayState): void {
    this.iconState = trayIconState(state);
    const icon = this.iconFor(this.iconState);
    if (icon !== this.lastIcon) {
      this.tray.setImage(loadIcon(icon, this.platform));
      this.lastIcon = icon;
    }
    this.tray.setToolTip(trayTooltip(state));
    this.items = buildTrayMenu(state);
    this.tray.setContextMenu(Menu.buildFromTemplate(toElectronMenu(this.items, this.run)));
  }

  destroy(): void {
    this.tray.destroy();
  }
}
