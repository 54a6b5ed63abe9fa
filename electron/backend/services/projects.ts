/**
 * Compose projects, as Docker Desktop shows them: the containers that carry
 * a project's com.docker.compose.project label, acted on as one (start, stop,
 * restart), and removed the way `docker compose down` does (its containers,
 * then the networks compose made for it; volumes only when asked).
 */
import type Docker from 'dockerode';
import type { BulkResult, ContainerAction } from '../../contract/api.js';
import { containerAction, forEachBulk } from './containers.js';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const NUMBER_LABEL = 'com.docker.compose.container-number';

export async function projectContainers(docker: Docker, project: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${PROJECT_LABEL}=${project}`] } });
}

function noSuchProject(project: string): Error {
  return Object.assign(new Error(`no containers belong to compose project "${project}"`), { statusCode: 404 });
}

export async function projectAction(docker: Docker, project: string, action: ContainerAction): Promise<BulkResult> {
  const list = await projectContainers(docker, project);
  if (list.length === 0) throw noSuchProject(project);
  // Starting leaves running ones alone and stopping leaves stopped ones alone, as compose does.
  const ids = list.filter((c) => (action === 'start' ? c.State !== 'running' : action === 'stop' || action === 'pause' || action === 'kill' ? c.State === 'running' : action === 'unpause' ? c.State === 'paused' : true)).map((c) => c.Id);
  if (ids.length === 0) return [];
  return containerAction(docker, ids, action);
}

export interface ProjectRemoval {
  containers: BulkResult;
  networks: string[];
  volumes: string[];
}

export async function removeProject(docker: Docker, project: string, removeVolumes: boolean): Promise<ProjectRemoval> {
  const list = await projectContainers(docker, project);
  const networks = (await docker.listNetworks({ filters: { label: [`${PROJECT_LABEL}=${project}`] } })) as Array<{ Id: string; Name: string }>;
  const volumes = removeVolumes ? ((await docker.listVolumes({ filters: { label: [`${PROJECT_LABEL}=${project}`] } })).Volumes ?? []) : [];
  if (list.length === 0 && networks.length === 0) throw noSuchProject(project);
  const containers = await forEachBulk(
    list.map((c) => c.Id),
    (id) => docker.getContainer(id).remove({ force: true, v: removeVolumes }),
  );
  const removedNetworks: string[] = [];
  for (const n of networks) {
    try {
      await docker.getNetwork(n.Id).remove();
      removedNetworks.push(n.Name);
    } catch {
      // Still used by a container outside the project: it stays, like compose leaves it.
    }
  }
  const removedVolumes: string[] = [];
  for (const v of volumes) {
    try {
      await docker.getVolume(v.Name).remove();
      removedVolumes.push(v.Name);
    } catch {
      // In use elsewhere.
    }
  }
  return { containers, networks: removedNetworks, volumes: removedVolumes };
}
