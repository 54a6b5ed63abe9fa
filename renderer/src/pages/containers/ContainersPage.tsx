/**
 * The containers table: search and filters (state, image, compose project,
 * label; remembered), sortable columns, compose projects as groups with their
 * own actions, row and bulk actions that show they are running, CPU/memory
 * for the visible running rows (streamed), on the shared DataTable.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { create } from 'zustand';
import type { ContainerRow } from '../../../../electron/contract/models.js';
import { api } from '../../api/client.js';
import { useModel } from '../../stores/model.js';
import { useSession } from '../../stores/session.js';
import { navigate, useUi } from '../../stores/ui.js';
import { setFilter, setView, useView } from '../../stores/views.js';
import { usePendingOp } from '../../stores/pending.js';
import { useClock } from '../../stores/clock.js';
import { filterContainers, type StateFilter } from '../../lib/containers.js';
import { containerStatus } from '../../lib/status.js';
import { formatBytes, formatPercent, shortId, timeAgo } from '../../lib/format.js';
import { DataTable } from '../../components/table/DataTable.js';
import { BulkBar, type BulkAction } from '../../components/table/BulkBar.js';
import type { Column, SortState } from '../../components/table/columns.js';
import { ConfirmDialog } from '../../components/Dialog.js';
import { Empty, PortLinks, StateBadge } from '../../components/common.js';
import { Icon } from '../../components/Icon.js';
import { removeContainers, runContainerAction } from './container-actions.js';
import { ProjectActions } from '../projects/ProjectActions.js';

export { runContainerAction, removeContainers } from './container-actions.js';

export const ROW_HEIGHT = 40;
export const CONTAINERS_TABLE = 'containers';
const DEFAULT_SORT: SortState = { column: 'created', dir: 'desc' };

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

export function removeMessage(names: string[]): string {
  if (names.length === 1) return `${names[0]} will be deleted with its writable layer. Volumes are kept.`;
  const list = `${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
  return `${list} will be deleted with their writable layers. Volumes are kept.`;
}

export function RemoveContainersDialog({ ids, names, onDone, onRemoved }: { ids: string[]; names: string[]; onDone: () => void; onRemoved?: () => void }) {
  const [force, setForce] = useState(false);
  return (
    <ConfirmDialog
      title={ids.length === 1 ? 'Remove container' : `Remove ${ids.length} containers`}
      message={<p>{removeMessage(names)}</p>}
      confirmLabel="Remove"
      danger
      option={{ label: 'Force (stop running containers first)', value: force, onChange: setForce }}
      onCancel={onDone}
      onConfirm={() => {
        onDone();
        void removeContainers(ids, force).then((ok) => ok && onRemoved?.());
      }}
    />
  );
}

const PENDING_TEXT: Record<string, string> = { starting: 'Starting…', stopping: 'Stopping…', restarting: 'Restarting…', pausing: 'Pausing…', unpausing: 'Unpausing…', killing: 'Killing…', removing: 'Removing…' };

/** The status pill: derived from the start/finish time on the shared clock, or the action in flight. */
export function ContainerStatus({ c }: { c: ContainerRow }) {
  const text = useClock((now) => containerStatus(c, now));
  const pending = usePendingOp(c.id);
  if (pending) {
    return (
      <span className="badge blue" data-state={c.state} data-pending={pending} title={PENDING_TEXT[pending]}>
        <span className="spinner" aria-hidden="true" />
        {PENDING_TEXT[pending]}
      </span>
    );
  }
  return <StateBadge state={c.state} text={text} title={text} />;
}

export function TimeAgo({ seconds }: { seconds: number }) {
  return <>{useClock((now) => timeAgo(seconds, now))}</>;
}

function RowActions({ c, onRemove }: { c: ContainerRow; onRemove: () => void }) {
  const pending = usePendingOp(c.id);
  const running = c.state === 'running' || c.state === 'restarting';
  const busy = pending !== undefined;
  const btn = (label: string, icon: Parameters<typeof Icon>[0]['name'], onClick: () => void, danger = false) => (
    <button className={`small ${danger ? 'danger' : ''}`} aria-label={`${label} ${c.name}`} title={label} disabled={busy} onClick={onClick}>
      <Icon name={icon} />
    </button>
  );
  return (
    <div className="row-actions">
      {running ? btn('Stop', 'stop', () => void runContainerAction([c.id], 'stop')) : c.state === 'paused' ? btn('Unpause', 'play', () => void runContainerAction([c.id], 'unpause')) : btn('Start', 'play', () => void runContainerAction([c.id], 'start'))}
      {running && btn('Pause', 'pause', () => void runContainerAction([c.id], 'pause'))}
      {btn('Restart', 'restart', () => void runContainerAction([c.id], 'restart'))}
      {btn('Remove', 'trash', onRemove, true)}
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

const containerKey = (c: ContainerRow) => c.id;
const containerAttrs = (c: ContainerRow) => ({ 'data-id': c.id, 'data-name': c.name });
const containerLabel = (c: ContainerRow) => `Select ${c.name}`;
const projectLabel = (p: string) => `Select project ${p}`;
const openContainer = (c: ContainerRow) => navigate({ page: 'container', id: c.id, tab: 'logs' });
const setSelection = (next: Set<string>) => useUi.setState({ selection: next });

function ContainerFilters({ containers }: { containers: ReadonlyMap<string, ContainerRow> }) {
  const view = useView(CONTAINERS_TABLE);
  const f = view.filters ?? {};
  const images = useMemo(() => [...new Set([...containers.values()].map((c) => c.image))].sort(), [containers]);
  const projects = useMemo(() => [...new Set([...containers.values()].flatMap((c) => (c.project ? [c.project] : [])))].sort(), [containers]);
  return (
    <>
      <select aria-label="Filter by state" value={f.state ?? 'all'} onChange={(e) => setFilter(CONTAINERS_TABLE, 'state', e.target.value === 'all' ? '' : e.target.value)}>
        <option value="all">All states</option>
        <option value="running">Running</option>
        <option value="stopped">Stopped</option>
        <option value="paused">Paused</option>
      </select>
      <select aria-label="Filter by image" value={f.image ?? ''} onChange={(e) => setFilter(CONTAINERS_TABLE, 'image', e.target.value)}>
        <option value="">All images</option>
        {f.image && !images.includes(f.image) && <option value={f.image}>{f.image}</option>}
        {images.map((i) => (
          <option key={i} value={i}>
            {i}
          </option>
        ))}
      </select>
      <select aria-label="Filter by compose project" value={f.project ?? ''} onChange={(e) => setFilter(CONTAINERS_TABLE, 'project', e.target.value)}>
        <option value="">All projects</option>
        <option value="-">Not in a project</option>
        {f.project && f.project !== '-' && !projects.includes(f.project) && <option value={f.project}>{f.project}</option>}
        {projects.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <input type="search" aria-label="Filter by label" placeholder="label or key=value" className="label-filter" value={f.label ?? ''} onChange={(e) => setFilter(CONTAINERS_TABLE, 'label', e.target.value, { typing: true })} />
      <label className="check">
        <input type="checkbox" checked={view.grouped ?? true} onChange={(e) => setView(CONTAINERS_TABLE, { grouped: e.target.checked })} /> Group by project
      </label>
    </>
  );
}

export function ContainersPage() {
  const containers = useModel((s) => s.containers);
  const loaded = useModel((s) => s.loaded.containers);
  const search = useUi((s) => s.containerSearch);
  const collapsed = useUi((s) => s.collapsedProjects);
  const selection = useUi((s) => s.selection);
  const view = useView(CONTAINERS_TABLE);
  const [removing, setRemoving] = useState<string[] | null>(null);
  const [statIds, setStatIds] = useState<string[]>([]);
  const filters = view.filters ?? {};
  const grouped = view.grouped ?? true;

  const filtered = useMemo(
    () => filterContainers(containers.values(), { search, state: (filters.state as StateFilter | undefined) ?? 'all', ...(filters.image ? { image: filters.image } : {}), ...(filters.project ? { project: filters.project } : {}), ...(filters.label ? { label: filters.label } : {}) }),
    [containers, search, filters.state, filters.image, filters.project, filters.label],
  );
  const visibleIds = useMemo(() => filtered.map((c) => c.id), [filtered]);
  const selected = visibleIds.filter((id) => selection.has(id));

  useVisibleStats(statIds);
  const onVisibleRows = useCallback((rows: ContainerRow[]) => {
    const ids = rows.filter((r) => r.state === 'running').slice(0, 50).map((r) => r.id);
    setStatIds((prev) => (prev.join(',') === ids.join(',') ? prev : ids));
  }, []);

  // Drop selections of containers that are gone.
  useEffect(() => {
    if ([...selection].some((id) => !containers.has(id))) useUi.setState({ selection: new Set([...selection].filter((id) => containers.has(id))) });
  }, [containers, selection]);

  const toggleGroup = useCallback(
    (project: string) =>
      useUi.setState((s) => {
        const next = new Set(s.collapsedProjects);
        if (next.has(project)) next.delete(project);
        else next.add(project);
        return { collapsedProjects: next };
      }),
    [],
  );

  const columns = useMemo<Column<ContainerRow>[]>(
    () => [
      {
        id: 'name',
        title: 'Name',
        width: 'minmax(110px, 2fr)',
        sortValue: (c) => c.name,
        render: (c) => (
          <>
            <a
              href={`#/containers/${c.id}/logs`}
              onClick={(e) => {
                e.preventDefault();
                openContainer(c);
              }}
            >
              {grouped && c.project && c.service ? c.service : c.name}
            </a>
            <span className="muted mono"> {shortId(c.id)}</span>
          </>
        ),
        cellTitle: (c) => c.name,
      },
      { id: 'image', title: 'Image', width: 'minmax(80px, 1.3fr)', sortValue: (c) => c.image, render: (c) => c.image, cellTitle: (c) => c.image },
      { id: 'status', title: 'Status', width: 'minmax(172px, 1.2fr)', sortValue: (c) => `${c.state === 'running' ? 0 : 1}:${c.state}`, render: (c) => <ContainerStatus c={c} /> },
      { id: 'ports', title: 'Ports', width: 'minmax(100px, 1fr)', sortValue: (c) => c.ports[0]?.publicPort ?? c.ports[0]?.privatePort, render: (c) => <PortLinks ports={c.ports} /> },
      { id: 'stats', title: 'CPU · Memory', width: '130px', hideBelow: 940, render: (c) => (c.state === 'running' ? <Stats id={c.id} /> : '—'), className: 'c-stats' },
      { id: 'created', title: 'Created', width: '112px', hideBelow: 800, sortValue: (c) => c.created, initialDir: 'desc', render: (c) => <TimeAgo seconds={c.created} /> },
      { id: 'actions', title: '', width: '124px', render: (c) => <RowActions c={c} onRemove={() => setRemoving([c.id])} /> },
    ],
    [grouped],
  );

  const grouping = useMemo(
    () =>
      grouped
        ? {
            keyOf: (c: ContainerRow) => c.project,
            collapsed,
            onToggle: toggleGroup,
            groupAttrs: (key: string) => ({ 'data-project': key }),
            header: (project: string, rows: ContainerRow[], isCollapsed: boolean) => (
              <>
                <button className="c-group-toggle" aria-expanded={!isCollapsed} aria-label={`${isCollapsed ? 'Expand' : 'Collapse'} ${project}`} onClick={() => toggleGroup(project)}>
                  {isCollapsed ? '▸' : '▾'}
                </button>
                <a
                  className="group-name"
                  href={`#/projects/${encodeURIComponent(project)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate({ page: 'project', name: project });
                  }}
                >
                  {project}
                </a>
                <span className="muted group-summary">
                  compose project · {rows.filter((c) => c.state === 'running').length}/{rows.length} running
                </span>
                <ProjectActions project={project} rows={rows} compact />
              </>
            ),
          }
        : undefined,
    [grouped, collapsed, toggleGroup],
  );

  const bulk: BulkAction[] = (
    [
      ['start', 'Start', 'Starting…'],
      ['stop', 'Stop', 'Stopping…'],
      ['restart', 'Restart', 'Restarting…'],
      ['pause', 'Pause', 'Pausing…'],
      ['unpause', 'Unpause', 'Unpausing…'],
    ] as const
  ).map(([action, label, busyLabel]) => ({ id: action, label, busyLabel, enabled: selected.length > 0, run: () => runContainerAction(selected, action) }));
  bulk.push({ id: 'remove', label: 'Remove', danger: true, enabled: selected.length > 0, run: () => setRemoving(selected) });

  const names = (ids: string[]) => ids.map((id) => containers.get(id)?.name ?? shortId(id));
  const sort = view.sort ?? DEFAULT_SORT;

  return (
    <section className="page containers-page" aria-labelledby="containers-title">
      <div className="page-head">
        <h1 id="containers-title">Containers</h1>
        <div className="toolbar">
          <input data-search type="search" placeholder="Search (press /)" aria-label="Search containers" value={search} onChange={(e) => useUi.setState({ containerSearch: e.target.value })} />
        </div>
      </div>
      <div className="toolbar filters" aria-label="Filters">
        <ContainerFilters containers={containers} />
      </div>
      <BulkBar summary={selected.length ? `${selected.length} selected` : `${filtered.length} of ${containers.size} containers`} actions={bulk} />
      <DataTable
        label="Containers"
        bodyLabel="Container rows"
        className="containers-table"
        columns={columns}
        rows={filtered}
        rowKey={containerKey}
        sort={sort}
        onSort={(s) => setView(CONTAINERS_TABLE, { sort: s })}
        selection={{ selected: selection, onChange: setSelection, label: containerLabel, groupLabel: projectLabel }}
        {...(grouping ? { grouping } : {})}
        rowAttrs={containerAttrs}
        rowHeight={ROW_HEIGHT}
        onOpen={openContainer}
        onDelete={(rows) => setRemoving(rows.map((r) => r.id))}
        onVisibleRows={onVisibleRows}
        {...(!loaded ? { loading: 'Loading containers…' } : {})}
        empty={
          <Empty title={containers.size ? 'No containers match' : 'No containers yet'}>
            {containers.size ? (
              <p>Change the search or the filters.</p>
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
      {removing && <RemoveContainersDialog ids={removing} names={names(removing)} onDone={() => setRemoving(null)} />}
    </section>
  );
}
