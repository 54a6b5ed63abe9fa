/**
 * The containers table: search, state filter, compose grouping, row and bulk
 * actions, CPU/memory for the visible running rows (streamed), and a
 * virtualized body so thousands of containers stay smooth. Fully usable from
 * the keyboard: arrows move, Space selects, Enter opens, Delete removes.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { create } from 'zustand';
import type { ContainerRow } from '../../../../electron/contract/models.js';
import type { ContainerAction } from '../../../../electron/contract/api.js';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { requireEngineId, useSession } from '../../stores/session.js';
import { attempt, navigate, toast, useUi } from '../../stores/ui.js';
import { filterContainers, groupContainers, type StateFilter, type TableRow } from '../../lib/containers.js';
import { formatBytes, formatPercent, portLabel, portUrl, shortId, timeAgo } from '../../lib/format.js';
import { VirtualList } from '../../components/VirtualList.js';
import { ConfirmDialog } from '../../components/Dialog.js';
import { Empty, StateBadge } from '../../components/common.js';
import { Icon } from '../../components/Icon.js';

export const ROW_HEIGHT = 40;

/** Latest CPU/memory per container id, from the stats stream of the visible rows. */
export const useStatsSummary = create<Record<string, { cpuPercent: number; memUsage: number; memLimit: number }>>()(() => ({}));

function useVisibleStats(ids: string[]): void {
  const key = ids.join(',');
  useEffect(() => {
    if (!key) return;
    const engineId = useSession.getState().activeId;
    if (!engineId) return;
    const handle = api().open('containers.statsSummary', { engineId, ids: key.split(',') }, { onEvent: (s) => useStatsSummary.setState({ [s.id]: s }) });
    return () => handle.close();
  }, [key]);
}

export async function runContainerAction(ids: string[], action: ContainerAction): Promise<void> {
  const results = await attempt(`Could not ${action}`, () => api().call('containers.action', { engineId: requireEngineId(), ids, action }));
  const failed = results?.filter((r) => r.error) ?? [];
  if (failed.length) toast('error', `${action} failed for ${failed.length} of ${ids.length}: ${failed[0]!.error}`);
}

export async function removeContainers(ids: string[], force: boolean): Promise<boolean> {
  const results = await attempt('Could not remove', () => api().call('containers.remove', { engineId: requireEngineId(), ids, force, volumes: false }));
  if (!results) return false;
  const failed = results.filter((r) => r.error);
  if (failed.length) {
    toast('error', `Could not remove ${failed.length} of ${ids.length}: ${failed[0]!.error}`);
    return false;
  }
  toast('success', `Removed ${ids.length} container${ids.length === 1 ? '' : 's'}`);
  return true;
}

export function RemoveContainersDialog({ ids, names, onDone }: { ids: string[]; names: string[]; onDone: () => void }) {
  const [force, setForce] = useState(false);
  return (
    <ConfirmDialog
      title={ids.length === 1 ? 'Remove container' : `Remove ${ids.length} containers`}
      message={
        <p>
          {ids.length === 1 ? <strong>{names[0]}</strong> : `${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`} will be deleted with its writable layer. Volumes
          are kept.
        </p>
      }
      confirmLabel="Remove"
      danger
      option={{ label: 'Force (stop running containers first)', value: force, onChange: setForce }}
      onCancel={onDone}
      onConfirm={() => {
        onDone();
        void removeContainers(ids, force).then((ok) => ok && useUi.setState((s) => ({ selection: new Set([...s.selection].filter((id) => !ids.includes(id))) })));
      }}
    />
  );
}

function RowActions({ c, onRemove }: { c: ContainerRow; onRemove: () => void }) {
  const running = c.state === 'running' || c.state === 'restarting';
  return (
    <div className="row-actions">
      {running ? (
        <button className="small" aria-label={`Stop ${c.name}`} title="Stop" onClick={() => void runContainerAction([c.id], 'stop')}>
          <Icon name="stop" />
        </button>
      ) : c.state === 'paused' ? (
        <button className="small" aria-label={`Unpause ${c.name}`} title="Unpause" onClick={() => void runContainerAction([c.id], 'unpause')}>
          <Icon name="play" />
        </button>
      ) : (
        <button className="small" aria-label={`Start ${c.name}`} title="Start" onClick={() => void runContainerAction([c.id], 'start')}>
          <Icon name="play" />
        </button>
      )}
      {running && (
        <button className="small" aria-label={`Pause ${c.name}`} title="Pause" onClick={() => void runContainerAction([c.id], 'pause')}>
          <Icon name="pause" />
        </button>
      )}
      <button className="small" aria-label={`Restart ${c.name}`} title="Restart" onClick={() => void runContainerAction([c.id], 'restart')}>
        <Icon name="restart" />
      </button>
      <button className="small danger" aria-label={`Remove ${c.name}`} title="Remove" onClick={onRemove}>
        <Icon name="trash" />
      </button>
    </div>
  );
}

function Stats({ id }: { id: string }) {
  const s = useStatsSummary((st) => st[id]);
  if (!s) return <>—</>;
  return (
    <>
      <span className="cell-cpu">{formatPercent(s.cpuPercent)}</span>
      <span className="cell-mem">{formatBytes(s.memUsage)}</span>
    </>
  );
}

export function ContainersPage() {
  const containers = useModel((s) => s.containers);
  const loaded = useModel((s) => s.loaded.containers);
  const search = useUi((s) => s.containerSearch);
  const stateFilter = useUi((s) => s.containerState);
  const grouped = useUi((s) => s.groupByProject);
  const collapsed = useUi((s) => s.collapsedProjects);
  const selection = useUi((s) => s.selection);
  const [focus, setFocus] = useState(0);
  const [removing, setRemoving] = useState<string[] | null>(null);
  const [range, setRange] = useState<[number, number]>([0, 0]);
  const listRef = useRef<HTMLDivElement>(null);

  const filtered = useMemo(() => filterContainers(containers.values(), { search, state: stateFilter }), [containers, search, stateFilter]);
  const rows: TableRow[] = useMemo(() => groupContainers(filtered, grouped, collapsed), [filtered, grouped, collapsed]);
  const visibleIds = useMemo(() => filtered.map((c) => c.id), [filtered]);
  const selectedVisible = visibleIds.filter((id) => selection.has(id));
  const allSelected = visibleIds.length > 0 && selectedVisible.length === visibleIds.length;

  // Stats only for the running containers on screen (at most 50 streams).
  const statIds = useMemo(() => {
    const ids: string[] = [];
    for (let i = range[0]; i < range[1] && ids.length < 50; i++) {
      const r = rows[i];
      if (r?.kind === 'container' && r.row.state === 'running') ids.push(r.row.id);
    }
    return ids;
  }, [rows, range]);
  useVisibleStats(statIds);

  // Drop selections of containers that are gone.
  useEffect(() => {
    if ([...selection].some((id) => !containers.has(id))) useUi.setState({ selection: new Set([...selection].filter((id) => containers.has(id))) });
  }, [containers, selection]);

  const toggle = useCallback((id: string) => {
    useUi.setState((s) => {
      const next = new Set(s.selection);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return { selection: next };
    });
  }, []);

  const setSelection = (ids: string[], on: boolean) =>
    useUi.setState((s) => {
      const next = new Set(s.selection);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      return { selection: next };
    });

  const toggleGroup = (project: string) =>
    useUi.setState((s) => {
      const next = new Set(s.collapsedProjects);
      if (next.has(project)) next.delete(project);
      else next.add(project);
      return { collapsedProjects: next };
    });

  const onRange = useCallback((a: number, b: number) => setRange((r) => (r[0] === a && r[1] === b ? r : [a, b])), []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if ((e.target as HTMLElement).closest('button, a, input')) {
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    }
    const r = rows[focus];
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        setFocus((f) => Math.min(rows.length - 1, f + 1));
        listRef.current?.focus();
        break;
      case 'ArrowUp':
        e.preventDefault();
        setFocus((f) => Math.max(0, f - 1));
        listRef.current?.focus();
        break;
      case ' ':
        e.preventDefault();
        if (r?.kind === 'container') toggle(r.row.id);
        else if (r?.kind === 'group') setSelection(r.ids, !r.ids.every((id) => selection.has(id)));
        break;
      case 'Enter':
        if (r?.kind === 'container') navigate({ page: 'container', id: r.row.id, tab: 'logs' });
        else if (r?.kind === 'group') toggleGroup(r.project);
        break;
      case 'Delete':
        if (selectedVisible.length) setRemoving(selectedVisible);
        else if (r?.kind === 'container') setRemoving([r.row.id]);
        break;
    }
  };

  const renderRow = (i: number) => {
    const r = rows[i]!;
    const focused = i === focus;
    if (r.kind === 'group') {
      const all = r.ids.every((id) => selection.has(id));
      return (
        <div className={`trow group ${focused ? 'focused' : ''}`} role="row" data-project={r.project}>
          <span className="c-check">
            <input type="checkbox" aria-label={`Select project ${r.project}`} checked={all} onChange={(e) => setSelection(r.ids, e.target.checked)} />
          </span>
          <button className="c-group-toggle" aria-expanded={!r.collapsed} onClick={() => toggleGroup(r.project)}>
            {r.collapsed ? '▸' : '▾'} <strong>{r.project}</strong>
            <span className="muted">
              {' '}
              compose project · {r.running}/{r.count} running
            </span>
          </button>
        </div>
      );
    }
    const c = r.row;
    return (
      <div className={`trow ${focused ? 'focused' : ''} ${selection.has(c.id) ? 'selected' : ''}`} role="row" data-id={c.id} data-name={c.name} onClick={() => setFocus(i)}>
        <span className="c-check" role="cell">
          <input type="checkbox" aria-label={`Select ${c.name}`} checked={selection.has(c.id)} onChange={() => toggle(c.id)} />
        </span>
        <span className={`c-name ${r.grouped ? 'indent' : ''}`} role="cell">
          <a href={`#/containers/${c.id}/logs`} onClick={(e) => (e.preventDefault(), navigate({ page: 'container', id: c.id, tab: 'logs' }))}>
            {r.grouped && c.service ? c.service : c.name}
          </a>
          <span className="muted mono"> {shortId(c.id)}</span>
        </span>
        <span className="c-image" role="cell" title={c.image}>
          {c.image}
        </span>
        <span className="c-status" role="cell" title={c.status}>
          <StateBadge state={c.state} text={c.status || c.state} />
        </span>
        <span className="c-ports" role="cell">
          {c.ports.map((p) => {
            const url = portUrl(p);
            return url ? (
              <a key={portLabel(p)} className="port" href={url} target="_blank" rel="noopener noreferrer" title={`Open ${url}`}>
                {portLabel(p)}
              </a>
            ) : (
              <span key={portLabel(p)} className="port plain">
                {portLabel(p)}
              </span>
            );
          })}
        </span>
        <span className="c-stats" role="cell">
          {c.state === 'running' ? <Stats id={c.id} /> : '—'}
        </span>
        <span className="c-created" role="cell">
          {timeAgo(c.created)}
        </span>
        <span className="c-actions" role="cell">
          <RowActions c={c} onRemove={() => setRemoving([c.id])} />
        </span>
      </div>
    );
  };

  const bulk = (action: ContainerAction) => void runContainerAction(selectedVisible, action);
  const names = (ids: string[]) => ids.map((id) => containers.get(id)?.name ?? shortId(id));

  return (
    <section className="page containers-page" aria-labelledby="containers-title">
      <div className="page-head">
        <h1 id="containers-title">Containers</h1>
        <div className="toolbar">
          <input
            data-search
            type="search"
            placeholder="Search (press /)"
            aria-label="Search containers"
            value={search}
            onChange={(e) => {
              useUi.setState({ containerSearch: e.target.value });
              setFocus(0);
            }}
          />
          <select aria-label="Filter by state" value={stateFilter} onChange={(e) => useUi.setState({ containerState: e.target.value as StateFilter })}>
            <option value="all">All</option>
            <option value="running">Running</option>
            <option value="stopped">Stopped</option>
            <option value="paused">Paused</option>
          </select>
          <label className="check">
            <input type="checkbox" checked={grouped} onChange={(e) => useUi.setState({ groupByProject: e.target.checked })} /> Group by compose project
          </label>
        </div>
      </div>
      <div className="bulkbar" aria-label="Bulk actions">
        <span className="muted">{selectedVisible.length ? `${selectedVisible.length} selected` : `${filtered.length} of ${containers.size} containers`}</span>
        <button disabled={!selectedVisible.length} onClick={() => bulk('start')}>
          Start
        </button>
        <button disabled={!selectedVisible.length} onClick={() => bulk('stop')}>
          Stop
        </button>
        <button disabled={!selectedVisible.length} onClick={() => bulk('restart')}>
          Restart
        </button>
        <button disabled={!selectedVisible.length} onClick={() => bulk('pause')}>
          Pause
        </button>
        <button disabled={!selectedVisible.length} onClick={() => bulk('unpause')}>
          Unpause
        </button>
        <button className="danger" disabled={!selectedVisible.length} onClick={() => setRemoving(selectedVisible)}>
          Remove
        </button>
      </div>
      <div className="table containers-table" role="table" aria-label="Containers" aria-rowcount={rows.length}>
        <div className="thead trow" role="row">
          <span className="c-check" role="columnheader">
            <input type="checkbox" aria-label="Select all" checked={allSelected} onChange={(e) => setSelection(visibleIds, e.target.checked)} />
          </span>
          <span className="c-name" role="columnheader">
            Name
          </span>
          <span className="c-image" role="columnheader">
            Image
          </span>
          <span className="c-status" role="columnheader">
            Status
          </span>
          <span className="c-ports" role="columnheader">
            Ports
          </span>
          <span className="c-stats" role="columnheader">
            CPU · Memory
          </span>
          <span className="c-created" role="columnheader">
            Created
          </span>
          <span className="c-actions" role="columnheader">
            Actions
          </span>
        </div>
        <div ref={listRef} className="tbody" tabIndex={0} onKeyDown={onKeyDown} aria-label="Container rows" aria-activedescendant={undefined}>
          {!loaded ? (
            <div className="loading">Loading containers…</div>
          ) : (
            <VirtualList
              count={rows.length}
              rowHeight={ROW_HEIGHT}
              renderRow={renderRow}
              onRangeChange={onRange}
              scrollToIndex={focus}
              label="Containers"
              empty={
                <Empty title={containers.size ? 'No containers match' : 'No containers yet'}>
                  {containers.size ? (
                    <p>Change the search or the state filter.</p>
                  ) : (
                    <p>
                      Run one from the{' '}
                      <a href="#/images" onClick={(e) => (e.preventDefault(), navigate({ page: 'images' }))}>
                        Images
                      </a>{' '}
                      page, or with <code>docker run</code>.
                    </p>
                  )}
                </Empty>
              }
            />
          )}
        </div>
      </div>
      {removing && <RemoveContainersDialog ids={removing} names={names(removing)} onDone={() => setRemoving(null)} />}
    </section>
  );
}
