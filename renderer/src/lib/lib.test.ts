import { describe, expect, it } from 'vitest';
import { filterContainers, groupContainers } from './containers.js';
import { formatBytes, portUrl, splitCommand, timeAgo } from './format.js';
import { formatRoute, parseRoute } from './route.js';
import type { ContainerRow } from '../../../electron/contract/models.js';

const row = (name: string, extra: Partial<ContainerRow> = {}): ContainerRow => ({ id: `${name}-id`, name, image: 'busybox', imageId: 'i', command: 'sh', created: 100, state: 'running', status: 'Up', ports: [], labels: {}, volumes: [], networks: [], ...extra });

describe('containers table logic', () => {
  const rows = [
    row('web', { project: 'shop', service: 'web', created: 3, ports: [{ privatePort: 80, publicPort: 8080, type: 'tcp' }] }),
    row('db', { project: 'shop', service: 'db', created: 2, state: 'exited' }),
    row('loose', { created: 1, state: 'paused', image: 'nginx' }),
  ];
  it('filters by every search word and by state, newest first', () => {
    expect(filterContainers(rows, { search: '', state: 'all' }).map((r) => r.name)).toEqual(['web', 'db', 'loose']);
    expect(filterContainers(rows, { search: 'shop 8080', state: 'all' }).map((r) => r.name)).toEqual(['web']);
    expect(filterContainers(rows, { search: 'NGINX', state: 'all' }).map((r) => r.name)).toEqual(['loose']);
    expect(filterContainers(rows, { search: '', state: 'stopped' }).map((r) => r.name)).toEqual(['db']);
    expect(filterContainers(rows, { search: '', state: 'paused' }).map((r) => r.name)).toEqual(['loose']);
    expect(filterContainers(rows, { search: '', state: 'running' }).map((r) => r.name)).toEqual(['web']);
  });
  it('groups compose projects above loose containers and collapses them', () => {
    const t = groupContainers(filterContainers(rows, { search: '', state: 'all' }), true, new Set());
    expect(t.map((r) => (r.kind === 'group' ? `group:${r.project}:${r.running}/${r.count}` : r.row.name))).toEqual(['group:shop:1/2', 'db', 'web', 'loose']);
    expect(groupContainers(rows, true, new Set(['shop'])).map((r) => r.kind)).toEqual(['group', 'container']);
    expect(groupContainers(rows, false, new Set()).every((r) => r.kind === 'container')).toBe(true);
  });
  it('groups 2,000 containers quickly', () => {
    const many = Array.from({ length: 2000 }, (_, i) => row(`c${i}`, { created: i, ...(i % 3 ? { project: `p${i % 7}` } : {}) }));
    const t0 = performance.now();
    groupContainers(filterContainers(many, { search: 'c1', state: 'all' }), true, new Set());
    expect(performance.now() - t0).toBeLessThan(50);
  });
});

describe('formatting', () => {
  it('formats sizes, times and port links', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(139.7)).toBe('140 B');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(timeAgo(1000, 1000_000 + 90_000)).toBe('2 minutes ago');
    expect(timeAgo(0, 3600_000)).toBe('About an hour ago');
    expect(portUrl({ ip: '0.0.0.0', privatePort: 80, publicPort: 8080, type: 'tcp' })).toBe('http://localhost:8080');
    expect(portUrl({ ip: '127.0.0.1', privatePort: 80, publicPort: 8080, type: 'tcp' })).toBe('http://127.0.0.1:8080');
    expect(portUrl({ privatePort: 53, publicPort: 53, type: 'udp' })).toBeUndefined();
    expect(portUrl({ privatePort: 80, type: 'tcp' })).toBeUndefined();
  });
  it('splits commands like a shell', () => {
    expect(splitCommand(`sh -c 'echo "hi there" && ls'`)).toEqual(['sh', '-c', 'echo "hi there" && ls']);
    expect(splitCommand('a\\ b "" c')).toEqual(['a b', '', 'c']);
    expect(splitCommand('')).toEqual([]);
    expect(() => splitCommand('echo "x')).toThrow(/unterminated/);
  });
});

describe('routes', () => {
  it('round-trips every route', () => {
    for (const h of ['#/containers', '#/containers/abc/terminal', '#/images/sha256%3Aab', '#/volumes/data/sub/dir', '#/networks/n1', '#/settings', '#/engines', '#/troubleshoot']) {
      expect(formatRoute(parseRoute(h))).toBe(h);
    }
    expect(parseRoute('#/containers/abc/bogus')).toEqual({ page: 'container', id: 'abc', tab: 'logs' });
    expect(parseRoute('')).toEqual({ page: 'containers' });
    expect(parseRoute('#/volumes/data')).toEqual({ page: 'volume', name: 'data', path: '/' });
  });
});
