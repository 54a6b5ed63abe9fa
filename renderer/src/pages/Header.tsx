/** The header: which engine is active (switchable), its state, and start/stop/restart when Berth runs it. */
import { useSession, activeEngine } from '../stores/session.js';
import { useModel } from '../stores/model.js';
import { useUi } from '../stores/ui.js';
import { EngineBadge } from '../components/common.js';
import { PROBLEM_TEXT } from '../api/transport.js';
import { engineAction, switchEngine } from './engine/engine-actions.js';

export function Header() {
  const engines = useSession((s) => s.engines);
  const activeId = useSession((s) => s.activeId);
  const engine = useSession(activeEngine);
  const connection = useSession((s) => s.connection);
  const problem = useSession((s) => s.connectionProblem);
  const modelStatus = useModel((s) => s.status);
  const offline = connection !== 'open';
  // Nothing can be started or stopped while Berth itself is out of reach.
  const busy = offline || engine?.state === 'starting' || engine?.state === 'stopping';
  const mac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);
  return (
    <>
      <header className="topbar">
        <div className="brand">
          <img src="./berth.svg" alt="" width="22" height="22" />
          <span>Berth</span>
        </div>
        <div className="engine-bar" aria-label="Engine">
          <label className="sr-only" htmlFor="engine-select">
            Engine
          </label>
          <select id="engine-select" value={activeId ?? ''} onChange={(e) => void switchEngine(e.target.value)} disabled={engines.length === 0 || offline} title={engine ? `${engine.name} — ${engine.host}` : undefined}>
            {engines.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name} — {e.host}
              </option>
            ))}
          </select>
          {engine && <EngineBadge state={offline ? 'unknown' : modelStatus === 'unreachable' && engine.state === 'running' ? 'unreachable' : engine.state} />}
          {engine?.progress && !offline && <span className="progress-text">{engine.progress.step}…</span>}
          {engine?.controllable && (
            <span className="engine-controls">
              {engine.state !== 'running' ? (
                <button onClick={() => void engineAction(engine.id, 'start')} disabled={busy}>
                  Start
                </button>
              ) : (
                <button onClick={() => void engineAction(engine.id, 'stop')} disabled={busy}>
                  Stop
                </button>
              )}
              <button onClick={() => void engineAction(engine.id, 'restart')} disabled={busy || engine.state !== 'running'}>
                Restart
              </button>
            </span>
          )}
        </div>
        <div className="topbar-right">
          {offline && <span className="badge red">{connection === 'connecting' ? 'connecting…' : 'disconnected'}</span>}
          <button className="palette-button" onClick={() => useUi.setState({ paletteOpen: true })} title={`Command palette (${mac ? '⌘' : 'Ctrl'}+K)`} aria-label="Command palette">
            <span className="palette-text">Search or run a command… </span>
            <kbd>{mac ? '⌘K' : 'Ctrl K'}</kbd>
          </button>
        </div>
      </header>
      {offline && problem && (
        <div className="connection-banner" role="status" data-connection-problem={problem}>
          {PROBLEM_TEXT[problem]}
        </div>
      )}
    </>
  );
}
