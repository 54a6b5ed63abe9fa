/**
 * One compose project: start/stop/restart/remove it as a whole, its published
 * ports (per service), its containers, and one merged log view with a service
 * column (like `docker compose logs -f`).
 */
import { useMemo } from 'react';
import type { ContainerRow } from '../../../../electron/contract/models.js';
import { useModel } from '../../stores/model.js';
import { navigate } from '../../stores/ui.js';
import { useSort } from '../../stores/views.js';
import { composeProjects } from '../../lib/containers.js';
import { DataTable } from '../../components/table/DataTable.js';
import type { Column } from '../../components/table/columns.js';
import { Empty, PortLinks } from '../../components/common.js';
import { ContainerStatus } from '../containers/ContainersPage.js';
import { LogsView } from '../containers/LogsView.js';
import { ProjectActions } from './ProjectActions.js';

export function ProjectPage({ name }: { name: string }) {
  const containers = useModel((s) => s.containers);
  const loaded = useModel((s) => s.loaded.containers);
  const project = useMemo(() => composeProjects(containers.values()).find((p) => p.name === name), [containers, name]);
  const [sort, setSort] = useSort('project-containers', { column: 'service', dir: 'asc' });
  const columns = useMemo<Column<ContainerRow>[]>(
    () => [
      {
        id: 'service',
        title: 'Service',
        width: 'minmax(110px, 1.3fr)',
        sortValue: (c) => c.service ?? c.name,
        render: (c) => (
          <a href={`#/containers/${c.id}/logs`} onClick={(e) => (e.preventDefault(), navigate({ page: 'container', id: c.id, tab: 'logs' }))}>
            {c.service ?? c.name}
          </a>
        ),
      },
      { id: 'name', title: 'Container', width: 'minmax(120px, 1.5fr)', hideBelow: 640, sortValue: (c) => c.name, render: (c) => c.name, cellTitle: (c) => c.name },
      { id: 'image', title: 'Image', width: 'minmax(90px, 1.2fr)', sortValue: (c) => c.image, render: (c) => c.image, cellTitle: (c) => c.image },
      { id: 'status', title: 'Status', width: 'minmax(165px, 1.3fr)', sortValue: (c) => c.state, render: (c) => <ContainerStatus c={c} /> },
      { id: 'ports', title: 'Ports', width: 'minmax(90px, 1.2fr)', render: (c) => <PortLinks ports={c.ports} /> },
    ],
    [],
  );
  // The container ids are the stream's identity: a recreated service gets a fresh merged view.
  const logKey = project?.containers.map((c) => c.id).sort().join(',') ?? '';
  const published = project?.containers.flatMap((c) => c.ports.filter((p) => p.publicPort).map((p) => ({ service: c.service ?? c.name, port: p }))) ?? [];

  return (
    <section className="page project-page" aria-labelledby="project-title" data-project={name}>
      <a href="#/containers" className="back" onClick={(e) => (e.preventDefault(), navigate({ page: 'containers' }))}>
        ← Containers
      </a>
      {!project ? (
        loaded ? (
          <Empty title={`No compose project named ${name}`}>
            <p>Its containers may have been removed.</p>
          </Empty>
        ) : (
          <div className="loading">Loading…</div>
        )
      ) : (
        <>
          <div className="page-head">
            <div>
              <h1 id="project-title">{name}</h1>
              <p className="muted detail-facts">
                <span>compose project</span>
                <span className="sep">·</span>
                <span data-project-summary>
                  {project.running}/{project.containers.length} running
                </span>
              </p>
            </div>
            <ProjectActions project={name} rows={project.containers} onRemoved={() => navigate({ page: 'containers' })} />
          </div>
          <div className="project-ports" aria-label="Published ports">
            <strong>Ports</strong>{' '}
            {published.length === 0 ? (
              <span className="muted">none published</span>
            ) : (
              published.map(({ service, port }) => (
                <span key={`${service}-${port.ip ?? ''}-${port.publicPort}-${port.type}`} className="project-port" data-service={service}>
                  <span className="muted">{service}</span> <PortLinks ports={[port]} />
                </span>
              ))
            )}
          </div>
          <DataTable label="Project containers" className="project-table" columns={columns} rows={project.containers} rowKey={(c) => c.id} sort={sort} onSort={setSort} fitRows={6} rowAttrs={(c) => ({ 'data-name': c.name, 'data-service': c.service })} onOpen={(c) => navigate({ page: 'container', id: c.id, tab: 'logs' })} />
          <h2>Logs</h2>
          <LogsView key={logKey} source={{ kind: 'project', name }} name={name} />
        </>
      )}
    </section>
  );
}
