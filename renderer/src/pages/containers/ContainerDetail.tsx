/** One container: its state and actions, and the Logs, Terminal, Inspect, Stats and Files tabs. */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { useSession } from '../../stores/session.js';
import { navigate, toast } from '../../stores/ui.js';
import { usePendingOp } from '../../stores/pending.js';
import { CONTAINER_TABS, type ContainerTab } from '../../lib/route.js';
import { shortId } from '../../lib/format.js';
import { PortLinks } from '../../components/common.js';
import { ContainerStatus, RemoveContainersDialog, runContainerAction } from './ContainersPage.js';
import { LogsView } from './LogsView.js';
import { TerminalView } from './TerminalView.js';
import { InspectView } from './InspectView.js';
import { StatsView } from './StatsView.js';
import { FileBrowser } from './FilesView.js';
import { downloadFiles } from './archive.js';

const TAB_LABEL: Record<ContainerTab, string> = { logs: 'Logs', terminal: 'Terminal', inspect: 'Inspect', stats: 'Stats', files: 'Files' };

export function ContainerDetail({ id, tab }: { id: string; tab: ContainerTab }) {
  const c = useModel((s) => s.containers.get(id));
  const loaded = useModel((s) => s.loaded.containers);
  const engineId = useSession((s) => s.activeId);
  const [removing, setRemoving] = useState(false);
  const [filesPath, setFilesPath] = useState('/');
  const pending = usePendingOp(id);
  // A container that was on screen and is gone (removed here, from the CLI or by --rm): back to the list.
  const seen = useRef<string | undefined>(undefined);
  if (c) seen.current = c.name;
  const gone = !c && seen.current !== undefined;
  const removingHere = pending === 'removing';
  useEffect(() => {
    if (!gone) return;
    // Removed from this page: the removal itself says so.
    if (!removingHere) toast('info', `${seen.current} was removed`);
    navigate({ page: 'containers' });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [gone]);

  if (gone) return null;
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
            {c.name} <ContainerStatus c={c} />
          </h1>
          <p className="muted detail-facts">
            <span className="mono">{shortId(c.id)}</span>
            <span className="sep" aria-hidden="true">
              ·
            </span>
            <span className="detail-image" title="Image">
              {c.image}
            </span>
            {c.project && (
              <>
                <span className="sep" aria-hidden="true">
                  ·
                </span>
                <a
                  href={`#/projects/${encodeURIComponent(c.project)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate({ page: 'project', name: c.project! });
                  }}
                >
                  {c.project}
                </a>
              </>
            )}
            {c.ports.length > 0 && (
              <>
                <span className="sep" aria-hidden="true">
                  ·
                </span>
                <PortLinks ports={c.ports} />
              </>
            )}
          </p>
        </div>
        <div className="toolbar">
          {running ? (
            <button disabled={!!pending} onClick={() => void runContainerAction([id], 'stop')}>
              Stop
            </button>
          ) : c.state === 'paused' ? (
            <button disabled={!!pending} onClick={() => void runContainerAction([id], 'unpause')}>
              Unpause
            </button>
          ) : (
            <button disabled={!!pending} onClick={() => void runContainerAction([id], 'start')}>
              Start
            </button>
          )}
          {running && (
            <button disabled={!!pending} onClick={() => void runContainerAction([id], 'pause')}>
              Pause
            </button>
          )}
          <button disabled={!!pending} onClick={() => void runContainerAction([id], 'restart')}>
            Restart
          </button>
          <button className="danger" disabled={!!pending} onClick={() => setRemoving(true)}>
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
        {tab === 'logs' && <LogsView key={c.id} source={{ kind: 'container', id: c.id }} name={c.name} />}
        {tab === 'terminal' && <TerminalView engineId={engineId} containerId={c.id} running={running} />}
        {tab === 'inspect' && <InspectView refreshKey={`${c.id}:${c.state}:${c.status}`} load={() => api().call('containers.inspect', { engineId, id: c.id })} />}
        {tab === 'stats' && <StatsView containerId={c.id} running={running} />}
        {tab === 'files' && (
          <FileBrowser
            path={filesPath}
            onPath={setFilesPath}
            target={{ kind: 'container', id: c.id }}
            running={running}
            list={(p) => api().call('containers.listFiles', { engineId, id: c.id, path: p })}
            onDownload={(p, isDir) => downloadFiles(engineId, { kind: 'container', id: c.id }, p, isDir)}
          />
        )}
      </div>
      {removing && (
        <RemoveContainersDialog
          ids={[c.id]}
          names={[c.name]}
          onDone={() => setRemoving(false)}
          onRemoved={() => navigate({ page: 'containers' })}
        />
      )}
    </section>
  );
}
