/** The header: which engine is active (switchable), its state, and start/stop/restart when Berth runs it. */
import { useSession, activeEngine } from '../stores/session.js';
import { useModel } from '../stores/model.js';
import { useUi } from '../stores/ui.js';
import { EngineBadge } from '../components/common.js';
import { engineAction, switchEngine } from './engine/engine-actions.js';

export function Header() {
  const engines = useSession((s) => s.engines);
  const activeId = useSession((s) => s.activeId);
  const engine = useSession(activeEngine);
  const connection = useSession((s) => s.connection);
  const modelStatus = useModel((s) => s.status);
  const busy = engine?.state === 'starting' || engine?.state === 'stopping';
  return (
    <header className="topbar">
      <div className="brand">
        <img src="./berth.svg" alt="" width="22" height="22" />
        <span>Berth</span>
      </div>
      <div className="engine-bar" aria-label="Engine">
        <label className="sr-only" htmlFor="engine-select">
          Engine
        </label>
        <select id="engine-select" value={activeId ?? ''} onChange={(e) => void switchEngine(e.target.value)} disabled={engines.length === 0}>
          {engines.map((e) => (
            <option key={e.id} value={e.id}>
              {e.name} — {e.host}
            </option>
          ))}
        </select>
        {engine && <EngineBadge state={modelStatus === 'unreachable' && engine.state === 'running' ? 'unreachable' : engine.state} />}
        {engine?.progress && <span className="progress-text">{engine.progress.step}…</span>}
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
        {connection !== 'open' && <span className="badge red">{connection === 'connecting' ? 'connecting…' : 'disconnected'}</span>}
        <button className="palette-button" onClick={() => useUi.setState({ paletteOpen: true })} title="Command palette (Ctrl+K)">
          Search or run a command… <kbd>Ctrl K</kbd>
        </button>
      </div>
    </header>
  );
}
