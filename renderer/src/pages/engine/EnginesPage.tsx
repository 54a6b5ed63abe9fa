/** Every engine Berth knows (its own, DOCKER_HOST, docker contexts, added ones): switch, start/stop, add, remove. */
import { useState } from 'react';
import { api } from '../../api/client.js';
import { useSession } from '../../stores/session.js';
import { attempt, errorText, toast } from '../../stores/ui.js';
import { EngineBadge } from '../../components/common.js';
import { engineAction, switchEngine } from './engine-actions.js';

const SOURCE: Record<string, string> = { berth: 'Berth', env: 'DOCKER_HOST', context: 'docker context', settings: 'added here' };

function AddEngineForm() {
  const [name, setName] = useState('');
  const [host, setHost] = useState('');
  const [tlsCertPath, setTls] = useState('');
  const [error, setError] = useState<string>();
  const submit = async () => {
    setError(undefined);
    try {
      const e = await api().call('engines.add', { name: name.trim() || host.trim(), host: host.trim(), ...(tlsCertPath.trim() ? { tlsCertPath: tlsCertPath.trim(), tlsVerify: true } : {}) });
      toast('success', `Added ${e.name}`);
      setName('');
      setHost('');
      setTls('');
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form
      className="add-engine"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>Add an engine</h2>
      <div className="row-fields">
        <label className="field">
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="build server" aria-label="Engine name" />
        </label>
        <label className="field grow">
          Host
          <input value={host} onChange={(e) => setHost(e.target.value)} placeholder="ssh://me@server, tcp://10.0.0.5:2376, unix:///run/podman/podman.sock" aria-label="Engine host" />
        </label>
        <label className="field">
          TLS folder
          <input value={tlsCertPath} onChange={(e) => setTls(e.target.value)} placeholder="(ca.pem, cert.pem, key.pem)" aria-label="TLS certificate folder" />
        </label>
        <button className="primary" type="submit" disabled={!host.trim()}>
          Add
        </button>
      </div>
      {error && <pre className="error-box">{error}</pre>}
    </form>
  );
}

export function EnginesPage() {
  const engines = useSession((s) => s.engines);
  const activeId = useSession((s) => s.activeId);
  return (
    <section className="page" aria-labelledby="engines-title">
      <h1 id="engines-title">Engines</h1>
      <p className="muted">Berth talks to any Docker-API engine. The active one is what the other pages show.</p>
      <table className="simple engines-table" aria-label="Engines">
        <thead>
          <tr>
            <th>Name</th>
            <th>Host</th>
            <th>From</th>
            <th>State</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {engines.map((e) => (
            <tr key={e.id} data-engine={e.id} className={e.id === activeId ? 'active' : ''}>
              <td>
                {e.name} {e.id === activeId && <span className="badge blue">active</span>}
                {e.version && <span className="muted"> v{e.version}</span>}
              </td>
              <td className="mono">{e.host}</td>
              <td>{SOURCE[e.source]}</td>
              <td>
                <EngineBadge state={e.state} />
                {e.error && <div className="muted small-text">{e.error}</div>}
              </td>
              <td className="row-actions">
                {e.id !== activeId && (
                  <button className="small" onClick={() => void switchEngine(e.id)}>
                    Use
                  </button>
                )}
                {e.controllable && e.state !== 'running' && (
                  <button className="small" onClick={() => void engineAction(e.id, 'start')} disabled={e.state === 'starting'}>
                    Start
                  </button>
                )}
                {e.controllable && e.state === 'running' && (
                  <>
                    <button className="small" onClick={() => void engineAction(e.id, 'stop')}>
                      Stop
                    </button>
                    <button className="small" onClick={() => void engineAction(e.id, 'restart')}>
                      Restart
                    </button>
                  </>
                )}
                {e.source === 'settings' && (
                  <button className="small danger" onClick={() => void attempt('Could not remove the engine', () => api().call('engines.remove', { engineId: e.id }))}>
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddEngineForm />
    </section>
  );
}
