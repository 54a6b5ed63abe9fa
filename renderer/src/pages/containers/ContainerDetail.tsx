/** One container: its state and actions, and the Logs, Terminal, Inspect, Stats and Files tabs. */
import { useState, type KeyboardEvent } from 'react';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { useSession } from '../../stores/session.js';
import { navigate } from '../../stores/ui.js';
import { CONTAINER_TABS, type ContainerTab } from '../../lib/route.js';
import { portLabel, portUrl, shortId } from '../../lib/format.js';
import { StateBadge } from '../../components/common.js';
import { RemoveContainersDialog, runContainerAction } from './ContainersPage.js';
import { LogsView } from './LogsView.js';
import { TerminalView } from './TerminalView.js';
import { InspectView } from './InspectView.js';
import { StatsView } from './StatsView.js';
import { FileBrowser } from './FilesView.js';
import { downloadFromContainer } from './archive.js';

const TAB_LABEL: Record<ContainerTab, string> = { logs: 'Logs', terminal: 'Terminal', inspect: 'Inspect', stats: 'Stats', files: 'Files' };

export function ContainerDetail({ id, tab }: { id: string; tab: ContainerTab }) {
  const c = useModel((s) => s.containers.get(id));
  const loaded = useModel((s) => s.loaded.containers);
  const engineId = useSession((s) => s.activeId);
  const [removing, setRemoving] = useState(false);
  const [filesPath, setFilesPath] = useState('/');

  if (!c || !engineId) {
    return (
      <section className="page">
        <p>
          <a href="#/containers" onClick={(e) => (e.preventDefault(), navigate({ page: 'containers' }))}>
            ← Containers
          </a>
        </p>
        {loaded ? <h1>No such container: {shortId(id)}</h1> : <div className="loading">Loading…</div>}
      </section>
    );
  }
  const running = c.state === 'running';
  const go = (t: ContainerTab) => navigate({ page: 'container', id, tab: t });
  const onTabKey = (e: KeyboardEvent) => {
    const i = CONTAINER_TABS.indexOf(tab);
    if (e.key === 'ArrowRight') go(CONTAINER_TABS[(i + 1) % CONTAINER_TABS.length]!);
    else if (e.key === 'ArrowLeft') go(CONTAINER_TABS[(i + CONTAINER_TABS.length - 1) % CONTAINER_TABS.length]!);
  };

  return (
    <section className="page container-detail" aria-labelledby="container-title" data-container={c.id}>
      <div className="page-head">
        <div>
          <a href="#/containers" className="back" onClick={(e) => (e.preventDefault(), navigate({ page: 'containers' }))}>
            ← Containers
          </a>
          <h1 id="container-title">
            {c.name} <StateBadge state={c.state} text={c.status || c.state} />
          </h1>
          <p className="muted">
            <span className="mono">{shortId(c.id)}</span> · {c.image}
            {c.ports.map((p) => {
              const url = portUrl(p);
              return url ? (
                <a key={portLabel(p)} className="port" href={url} target="_blank" rel="noopener noreferrer">
                  {portLabel(p)}
                </a>
              ) : null;
            })}
          </p>
        </div>
        <div className="toolbar">
          {running ? <button onClick={() => void runContainerAction([id], 'stop')}>Stop</button> : c.state === 'paused' ? <button onClick={() => void runContainerAction([id], 'unpause')}>Unpause</button> : <button onClick={() => void runContainerAction([id], 'start')}>Start</button>}
          {running && <button onClick={() => void runContainerAction([id], 'pause')}>Pause</button>}
          <button onClick={() => void runContainerAction([id], 'restart')}>Restart</button>
          <button className="danger" onClick={() => setRemoving(true)}>
            Remove
          </button>
        </div>
      </div>
      <div className="tabs" role="tablist" aria-label="Container views" onKeyDown={onTabKey}>
        {CONTAINER_TABS.map((t) => (
          <button key={t} role="tab" aria-selected={t === tab} tabIndex={t === tab ? 0 : -1} onClick={() => go(t)}>
            {TAB_LABEL[t]}
          </button>
        ))}
      </div>
      <div className="tab-panel" role="tabpanel" aria-label={TAB_LABEL[tab]}>
        {tab === 'logs' && <LogsView key={c.id} containerId={c.id} name={c.name} />}
        {tab === 'terminal' && <TerminalView engineId={engineId} containerId={c.id} running={running} />}
        {tab === 'inspect' && <InspectView refreshKey={`${c.id}:${c.state}:${c.status}`} load={() => api().call('containers.inspect', { engineId, id: c.id })} />}
        {tab === 'stats' && <StatsView containerId={c.id} running={running} />}
        {tab === 'files' && (
          <FileBrowser
            path={filesPath}
            onPath={setFilesPath}
            list={(p) => api().call('containers.listFiles', { engineId, id: c.id, path: p })}
            onDownload={(p, isDir) => downloadFromContainer(engineId, c.id, p, isDir)}
          />
        )}
      </div>
      {removing && (
        <RemoveContainersDialog
          ids={[c.id]}
          names={[c.name]}
          onDone={() => {
            setRemoving(false);
          }}
        />
      )}
    </section>
  );
}
