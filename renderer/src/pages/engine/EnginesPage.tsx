/** Every engine Berth knows (its own, DOCKER_HOST, docker contexts, added ones): switch, start/stop, add, remove. */
import { useMemo, useState } from 'react';
import type { EngineInfo } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { useSession } from '../../stores/session.js';
import { attempt, errorText, toast } from '../../stores/ui.js';
import { useSort } from '../../stores/views.js';
import { EngineBadge } from '../../components/common.js';
import { DataTable } from '../../components/table/DataTable.js';
import type { Column } from '../../components/table/columns.js';
import { engineAction, switchEngine } from './engine-actions.js';
import { VmAccelerator } from './VmStatus.js';

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
  const [sort, setSort] = useSort('engines', { column: 'name', dir: 'asc' });
  const columns = useMemo<Column<EngineInfo>[]>(
    () => [
      {
        id: 'name',
        title: 'Name',
        width: 'minmax(150px, 1.6fr)',
        sortValue: (e) => e.name,
        cellTitle: (e) => `${e.name}${e.version ? ` · ${e.version}` : ''}`,
        render: (e) => (
          <>
            {e.name} {e.id === activeId && <span className="badge blue">active</span>}
            {e.version && <span className="muted engine-version"> {e.version}</span>}
          </>
        ),
      },
      { id: 'host', title: 'Host', width: 'minmax(140px, 2fr)', sortValue: (e) => e.host, render: (e) => <span className="mono">{e.host}</span>, cellTitle: (e) => e.host },
      { id: 'source', title: 'From', width: '110px', hideBelow: 700, sortValue: (e) => SOURCE[e.source], render: (e) => SOURCE[e.source] },
      {
        id: 'state',
        title: 'State',
        width: 'minmax(110px, 1.2fr)',
        sortValue: (e) => e.state,
        cellTitle: (e) => e.error,
        render: (e) => (
          <>
            <EngineBadge state={e.state} />
            {e.progress && (e.state === 'starting' || e.state === 'stopping') && (
              <span className="muted small-text" data-engine-progress>
                {' '}
                {e.progress.step}…
              </span>
            )}
            {e.error && <span className="muted small-text engine-error"> {e.error}</span>}
            {e.kind === 'vm' && (
              <>
                {' '}
                <VmAccelerator engine={e} />
              </>
            )}
          </>
        ),
      },
      {
        id: 'actions',
        title: '',
        width: '150px',
        render: (e) => (
          <div className="row-actions">
            {e.id !== activeId && (
              <button className="small" onClick={() => void switchEngine(e.id)} aria-label={`Use ${e.name}`}>
                Use
              </button>
            )}
            {e.controllable && e.state !== 'running' && (
              <button className="small" onClick={() => void engineAction(e.id, 'start')} disabled={e.state === 'starting' || e.state === 'stopping'} aria-label={`Start ${e.name}`}>
                Start
              </button>
            )}
            {e.controllable && e.state === 'running' && (
              <>
                <button className="small" onClick={() => void engineAction(e.id, 'stop')} aria-label={`Stop ${e.name}`}>
                  Stop
                </button>
                <button className="small" onClick={() => void engineAction(e.id, 'restart')} aria-label={`Restart ${e.name}`}>
                  Restart
                </button>
              </>
            )}
            {e.source === 'settings' && (
              <button className="small danger" onClick={() => void attempt('Could not remove the engine', () => api().call('engines.remove', { engineId: e.id }))} aria-label={`Remove ${e.name}`}>
                Remove
              </button>
            )}
          </div>
        ),
      },
    ],
    [activeId],
  );
  return (
    <section className="page" aria-labelledby="engines-title">
      <h1 id="engines-title">Engines</h1>
      <p className="muted">Berth talks to any Docker-API engine. The active one is what the other pages show.</p>
      <DataTable
        label="Engines"
        className="engines-table"
        fitRows={8}
        columns={columns}
        rows={engines}
        rowKey={(e) => e.id}
        sort={sort}
        onSort={setSort}
        rowAttrs={(e) => ({ 'data-engine': e.id })}
        rowClass={(e) => (e.id === activeId ? 'active' : undefined)}
        onOpen={(e) => void switchEngine(e.id)}
      />
      <AddEngineForm />
    </section>
  );
}
