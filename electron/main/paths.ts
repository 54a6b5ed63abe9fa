/** Where the shell finds its files in development (the repo's dist/) and when packaged (resources). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app } from 'electron';

const here = path.dirname(fileURLToPath(import.meta.url));

/** dist/renderer next to dist/electron. */
export const rendererDir = path.resolve(here, '..', '..', 'renderer');
export const preloadPath = path.resolve(here, '..', 'preload', 'preload.cjs');

/** Tray and app icons: resources/ when packaged, the repo's assets/ otherwise. */
export function assetPath(...parts: string[]): string {
  return app.isPackaged ? path.join(process.resourcesPath, 'assets', ...parts) : path.resolve(here, '..', '..', '..', 'assets', ...parts);
}

/** berthd inside a packaged app runs from the unpacked copy (Electron runs it as Node). */
export function packagedDaemonScript(): string | undefined {
  return app.isPackaged ? path.join(process.resourcesPath, 'app.asar.unpacked', 'dist', 'engine', 'daemon', 'main.js') : undefined;
}
