/**
 * What a tray menu item does, in plain Node: the Electron tray (electron/main/main.ts) calls this
 * with the item's action, and so do the tests — the same code stops the VM from the tray and from
 * the e2e spec. Engine and container operations report failures through the host's notify and
 * resolve when they are done.
 */
import type { Backend } from '../backend.js';
import type { TrayAction } from './tray-menu.js';

export interface TrayHost {
  showWindow(): void;
  navigate(page: Extract<TrayAction, { kind: 'open-page' }>['page']): void;
  openContainer(id: string): void;
  quit(): void;
  /** A failure the user should see (a notification on the desktop). */
  notify(title: string, body: string): void;
}

export async function runTrayAction(backend: Backend, a: TrayAction, host: TrayHost): Promise<void> {
  switch (a.kind) {
    case 'open-dashboard':
      return host.showWindow();
    case 'open-page':
      return host.navigate(a.page);
    case 'open-container':
      return host.openContainer(a.containerId);
    case 'engine': {
      const e = backend.engines.get(a.engineId);
      try {
        await (a.op === 'start' ? e.start() : a.op === 'stop' ? e.stop() : e.restart());
      } catch (err) {
        host.notify(e.kind === 'vm' ? 'Berth VM' : 'Berth engine', (err as Error).message);
      }
      return;
    }
    case 'use-engine':
      await backend.engines.setActive(a.engineId).catch((err: Error) => host.notify('Could not switch engines', err.message));
      return;
    case 'stop-container':
      await backend
        .docker(a.engineId)
        .getContainer(a.containerId)
        .stop()
        .catch((err: Error) => host.notify('Could not stop the container', err.message));
      return;
    case 'quit':
      return host.quit();
  }
}
