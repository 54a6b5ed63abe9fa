/**
 * Locks the window down: no navigation away from the app, no new windows
 * (http(s) links open in the user's browser), no permissions, no remote
 * requests from the renderer.
 */
import { shell, type Session, type WebContents } from 'electron';
import { APP_ORIGIN } from './protocol.js';

export function isAppUrl(url: string): boolean {
  return url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);
}

export function lockDownSession(ses: Session): void {
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'clipboard-sanitized-write'));
  ses.setPermissionCheckHandler((_wc, permission) => permission === 'clipboard-sanitized-write');
  // Only the app's own files (and devtools) load; blob: and data: stay local.
  ses.webRequest.onBeforeRequest((details, callback) => {
    const u = details.url;
    const allowed = isAppUrl(u) || u.startsWith('devtools://') || u.startsWith('blob:') || u.startsWith('data:') || u.startsWith('chrome-extension://');
    callback({ cancel: !allowed });
  });
}

export function lockDownContents(wc: WebContents): void {
  wc.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  wc.on('will-attach-webview', (event) => event.preventDefault());
  wc.setWindowOpenHandler(({ url }) => {
    // Port links and docs open in the user's browser; nothing opens inside Berth.
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}
