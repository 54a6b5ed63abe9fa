/**
 * app://berth/ serves the built dashboard from disk with a strict CSP, so the
 * window never loads file:// or anything remote. Registered as a standard,
 * secure scheme before the app is ready.
 */
import fs from 'node:fs';
import path from 'node:path';
import { protocol } from 'electron';
import { contentTypeOf, rendererCsp } from '../renderer-assets.js';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = 'app://berth';

export const CSP = rendererCsp();

export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveRenderer(rendererDir: string): void {
  const root = path.resolve(rendererDir);
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'berth') return new Response('not found', { status: 404 });
    const rel = decodeURIComponent(url.pathname) === '/' ? '/index.html' : decodeURIComponent(url.pathname);
    const file = path.resolve(root, '.' + rel);
    if (!file.startsWith(root + path.sep)) return new Response('not found', { status: 404 });
    try {
      const body = await fs.promises.readFile(file);
      return new Response(body, { headers: { 'Content-Type': contentTypeOf(file), 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
