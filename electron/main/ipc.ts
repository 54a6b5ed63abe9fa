/**
 * The contract over Electron IPC: one RpcSession per window, fed only by
 * messages from the app's own frame on the one channel; replies go back to
 * that window. Sessions end with their window.
 */
import { ipcMain, type WebContents } from 'electron';
import { IPC_CHANNEL } from '../contract/protocol.js';
import { RpcSession, type Handlers } from '../backend/rpc/session.js';
import { isAppUrl } from './security.js';

export function bridgeIpc(handlers: Handlers, log: (m: string) => void): () => void {
  const sessions = new Map<number, RpcSession>();
  const sessionFor = (wc: WebContents): RpcSession => {
    let s = sessions.get(wc.id);
    if (!s) {
      const session = new RpcSession(
        handlers,
        (m) => {
          if (!wc.isDestroyed()) wc.send(IPC_CHANNEL, m);
        },
        log,
      );
      s = session;
      sessions.set(wc.id, session);
      const end = () => {
        session.dispose();
        sessions.delete(wc.id);
      };
      wc.once('destroyed', end);
      // A reload starts a new page: its streams from the old page are gone.
      wc.on('did-start-navigation', (details) => {
        if (details.isMainFrame && !details.isSameDocument && sessions.get(wc.id) === session) end();
      });
    }
    return s;
  };
  const onMessage = (event: Electron.IpcMainEvent, message: unknown) => {
    const frameUrl = event.senderFrame?.url ?? '';
    if (!isAppUrl(frameUrl) || event.senderFrame !== event.sender.mainFrame) {
      log(`ignored an IPC message from ${frameUrl || 'an unknown frame'}`);
      return;
    }
    sessionFor(event.sender).receive(message);
  };
  ipcMain.on(IPC_CHANNEL, onMessage);
  return () => {
    ipcMain.removeListener(IPC_CHANNEL, onMessage);
    for (const s of sessions.values()) s.dispose();
    sessions.clear();
  };
}
