/**
 * How the built renderer is served, wherever it is: by the app:// protocol in
 * the Electron main process and by `berth dashboard`. One content-type table
 * and one Content-Security-Policy; only where the renderer may connect differs
 * (IPC needs nothing beyond 'self', the dashboard its WebSocket).
 */
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
}

/** The renderer's CSP; `connect` lists sources beyond 'self' it may connect to. */
export function rendererCsp(connect: string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // xterm.js and React set inline styles.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    ["connect-src 'self'", ...connect].join(' '),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
