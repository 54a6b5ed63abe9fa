/** The Terminal tab: attaches the container's exec session (kept alive across tabs) and offers reconnect, copy and paste. */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { getSession } from './terminal-sessions.js';
import { toast } from '../../stores/ui.js';

export function TerminalView({ engineId, containerId, running }: { engineId: string; containerId: string; running: boolean }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const session = running ? getSession(engineId, containerId) : undefined;
  const state = useSyncExternalStore(
    (l) => session?.subscribe(l) ?? (() => undefined),
    () => session?.state,
  );

  useEffect(() => {
    if (!session || !hostRef.current) return;
    session.attach(hostRef.current);
    return () => session.detach();
  }, [session]);

  if (!session) {
    return (
      <div className="empty">
        <h3>The container is not running</h3>
        <p>Start it to open a shell inside it.</p>
      </div>
    );
  }
  return (
    <div className="terminal-view">
      <div className="toolbar">
        <span className={`stream-status ${state?.status}`} data-exec-status={state?.status}>
          {state?.status === 'open'
            ? `● ${state.shell}`
            : state?.status === 'connecting'
              ? 'connecting…'
              : state?.status === 'exited'
                ? `exited${state.exitCode !== null && state.exitCode !== undefined ? ` (${state.exitCode})` : ''}`
                : `error: ${state?.error}`}
        </span>
        <button onClick={() => session.reconnect()}>{state?.status === 'open' ? 'New session' : 'Reconnect'}</button>
        <button onClick={() => void session.copy().catch(() => toast('error', 'The clipboard is not available here'))} title="Ctrl+Shift+C">
          Copy
        </button>
        <button onClick={() => void session.pasteFromClipboard().catch(() => toast('error', 'The clipboard is not available here'))} title="Ctrl+Shift+V">
          Paste
        </button>
      </div>
      <div ref={hostRef} className="term-host" />
    </div>
  );
}
