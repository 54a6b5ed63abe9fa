/** Hash routes (#/containers/<id>/logs): they work from app:// in Electron and behind the dashboard's token URL alike. */
export const CONTAINER_TABS = ['logs', 'terminal', 'inspect', 'stats', 'files'] as const;
export type ContainerTab = (typeof CONTAINER_TABS)[number];

export type Route =
  | { page: 'containers' }
  | { page: 'container'; id: string; tab: ContainerTab }
  | { page: 'project'; name: string }
  | { page: 'images' }
  | { page: 'image'; id: string }
  | { page: 'builds' }
  | { page: 'volumes' }
  | { page: 'volume'; name: string; path: string }
  | { page: 'networks' }
  | { page: 'network'; id: string }
  | { page: 'disk' }
  | { page: 'engines' }
  | { page: 'troubleshoot' }
  | { page: 'settings' };

export type PageName = Route['page'];

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [page, a, b] = parts;
  switch (page) {
    case 'containers':
      if (a) return { page: 'container', id: a, tab: (CONTAINER_TABS as readonly string[]).includes(b ?? '') ? (b as ContainerTab) : 'logs' };
      return { page: 'containers' };
    case 'projects':
      return a ? { page: 'project', name: a } : { page: 'containers' };
    case 'images':
      return a ? { page: 'image', id: a } : { page: 'images' };
    case 'volumes':
      return a ? { page: 'volume', name: a, path: '/' + parts.slice(2).join('/') } : { page: 'volumes' };
    case 'networks':
      return a ? { page: 'network', id: a } : { page: 'networks' };
    case 'disk':
    case 'builds':
    case 'engines':
    case 'troubleshoot':
    case 'settings':
      return { page };
    default:
      return { page: 'containers' };
  }
}

export function formatRoute(r: Route): string {
  const enc = encodeURIComponent;
  switch (r.page) {
    case 'container':
      return `#/containers/${enc(r.id)}/${r.tab}`;
    case 'project':
      return `#/projects/${enc(r.name)}`;
    case 'image':
      return `#/images/${enc(r.id)}`;
    case 'volume':
      return `#/volumes/${enc(r.name)}${r.path === '/' ? '' : r.path.split('/').map(enc).join('/')}`;
    case 'network':
      return `#/networks/${enc(r.id)}`;
    default:
      return `#/${r.page}`;
  }
}

/** The sidebar section a route belongs to. */
export type Section = 'containers' | 'images' | 'builds' | 'volumes' | 'networks' | 'disk' | 'engines' | 'troubleshoot' | 'settings';

export function sectionOf(r: Route): Section {
  switch (r.page) {
    case 'container':
    case 'project':
      return 'containers';
    case 'image':
      return 'images';
    case 'volume':
      return 'volumes';
    case 'network':
      return 'networks';
    default:
      return r.page;
  }
}
