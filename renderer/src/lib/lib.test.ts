import { describe, expect, it } from 'vitest';
import { composeProjects, filterContainers, matchesLabel } from './containers.js';
import { buildItems, nextSort, sortRows, visibleColumns, type Column } from '../components/table/columns.js';
import { containerStatus, humanDuration } from './status.js';
import { formatBytes, portUrl, splitCommand, timeAgo } from './format.js';
import { formatRoute, parseRoute } from './route.js';
import type { ContainerRow } from '../../../electron/contract/models.js';

const row = (name: string, extra: Partial<ContainerRow> = {}): ContainerRow => ({ id: `${name}-id`, name, image: 'busybox', imageId: 'i', command: 'sh', created: 100, state: 'running', status: 'Up', ports: [], labels: {}, volumes: [], networks: [], ...extra });

describe('containers table logic', () => {
  const rows = [
    row('web', { project: 'shop', service: 'web', created: 3, ports: [{ privatePort: 80, publicPort: 8080, type: 'tcp' }], labels: { tier: 'front' } }),
    row('db', { project: 'shop', service: 'db', created: 2, state: 'exited', labels: { tier: 'back' } }),
    row('loose', { created: 1, state: 'paused', image: 'nginx' }),
  ];
  const names = (r: ContainerRow[]) => r.map((x) => x.name);
  it('filters by every search word, state, image, compose project and label', () => {
    expect(names(filterContainers(rows, { search: '', state: 'all' }))).toEqual(['web', 'db', 'loose']);
    expect(names(filterContainers(rows, { search: 'shop 8080', state: 'all' }))).toEqual(['web']);
    expect(names(filterContainers(rows, { search: 'NGINX', state: 'all' }))).toEqual(['loose']);
    expect(names(filterContainers(rows, { search: '', state: 'stopped' }))).toEqual(['db']);
    expect(names(filterContainers(rows, { search: '', state: 'paused' }))).toEqual(['loose']);
    expect(names(filterContainers(rows, { search: '', state: 'running' }))).toEqual(['web']);
    expect(names(filterContainers(rows, { search: '', state: 'all', image: 'nginx' }))).toEqual(['loose']);
    expect(names(filterContainers(rows, { search: '', state: 'all', project: 'shop' }))).toEqual(['web', 'db']);
    expect(names(filterContainers(rows, { search: '', state: 'all', project: '-' }))).toEqual(['loose']);
    expect(names(filterContainers(rows, { search: '', state: 'all', label: 'tier' }))).toEqual(['web', 'db']);
    expect(names(filterContainers(rows, { search: '', state: 'all', label: 'tier = back' }))).toEqual(['db']);
    expect(matchesLabel({ a: '' }, 'a=')).toBe(true);
    expect(matchesLabel({ a: 'x' }, 'b')).toBe(false);
  });
  it('summarises compose projects', () => {
    expect(composeProjects(rows).map((p) => [p.name, p.running, p.containers.map((c) => c.service)])).toEqual([['shop', 1, ['db', 'web']]]);
  });
  it('filters 2,000 containers quickly', () => {
    const many = Array.from({ length: 2000 }, (_, i) => row(`c${i}`, { created: i, ...(i % 3 ? { project: `p${i % 7}` } : {}) }));
    const t0 = performance.now();
    filterContainers(many, { search: 'c1', state: 'all', label: 'x' });
    expect(performance.now() - t0).toBeLessThan(50);
  });
});

describe('table columns', () => {
  type R = { k: string; n?: number; s: string };
  const col = (id: string, v: (r: R) => string | number | undefined, extra: Partial<Column<R>> = {}): Column<R> => ({ id, title: id, width: '1fr', render: () => null, sortValue: v, ...extra });
  const data: R[] = [
    { k: 'a', n: 10, s: 'web-10' },
    { k: 'b', n: 2, s: 'web-2' },
    { k: 'c', s: 'Api' },
  ];
  it('sorts by a column either way, numbers numerically and text naturally, missing values last', () => {
    expect(sortRows(data, col('n', (r) => r.n), 'asc', (r) => r.k).map((r) => r.k)).toEqual(['b', 'a', 'c']);
    expect(sortRows(data, col('n', (r) => r.n), 'desc', (r) => r.k).map((r) => r.k)).toEqual(['a', 'b', 'c']);
    expect(sortRows(data, col('s', (r) => r.s), 'asc', (r) => r.k).map((r) => r.s)).toEqual(['Api', 'web-2', 'web-10']);
  });
  it('a header click flips the same column, a new column starts in its natural direction', () => {
    const size = col('size', (r) => r.n, { initialDir: 'desc' });
    expect(nextSort(undefined, size)).toEqual({ column: 'size', dir: 'desc' });
    expect(nextSort({ column: 'size', dir: 'desc' }, size)).toEqual({ column: 'size', dir: 'asc' });
    expect(nextSort({ column: 'size', dir: 'desc' }, col('name', (r) => r.s))).toEqual({ column: 'name', dir: 'asc' });
  });
  it('drops columns a narrow table has no room for', () => {
    const cols = [col('a', () => 1), col('b', () => 1, { hideBelow: 900 }), col('c', () => 1, { hideBelow: 700 })];
    expect(visibleColumns(cols, 1000).map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(visibleColumns(cols, 800).map((c) => c.id)).toEqual(['a', 'c']);
    expect(visibleColumns(cols, 0).map((c) => c.id)).toEqual(['a', 'b', 'c']);
  });
  it('groups rows under headers, collapsed groups hide their rows, loose rows come last', () => {
    const grouping = { keyOf: (r: R) => (r.k === 'c' ? undefined : 'g'), header: () => null, collapsed: new Set<string>(), onToggle: () => undefined };
    expect(buildItems(data, grouping).map((i) => (i.kind === 'group' ? `group:${i.key}:${i.rows.length}` : i.row.k))).toEqual(['group:g:2', 'a', 'b', 'c']);
    expect(buildItems(data, { ...grouping, collapsed: new Set(['g']) }).map((i) => i.kind)).toEqual(['group', 'row']);
  });
});

describe('status text', () => {
  const now = Date.UTC(2025, 0, 1, 12);
  it("words durations like Go's units.HumanDuration", () => {
    expect(humanDuration(400)).toBe('Less than a second');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(59_000)).toBe('59 seconds');
    expect(humanDuration(61_000)).toBe('About a minute');
    expect(humanDuration(3 * 60_000)).toBe('3 minutes');
    expect(humanDuration(3600_000)).toBe('About an hour');
    expect(humanDuration(5 * 3600_000)).toBe('5 hours');
    expect(humanDuration(3 * 86400_000)).toBe('3 days');
  });
  it('derives the status from the start and finish times, so it stays true', () => {
    const c = row('x', { state: 'running', status: 'Up 55 seconds', startedAt: now - 55_000 });
    expect(containerStatus(c, now)).toBe('Up 55 seconds');
    expect(containerStatus(c, now + 3 * 60_000)).toBe('Up 3 minutes');
    expect(containerStatus({ ...c, health: 'healthy' }, now)).toBe('Up 55 seconds (healthy)');
    expect(containerStatus({ ...c, state: 'paused' }, now)).toBe('Up 55 seconds (Paused)');
    expect(containerStatus(row('y', { state: 'exited', status: '', finishedAt: now - 2 * 3600_000, exitCode: 137 }), now)).toBe('Exited (137) 2 hours ago');
    expect(containerStatus(row('z', { state: 'created', status: 'Created' }), now)).toBe('Created');
    // Without times (an engine that gives none) the engine's own words stay.
    expect(containerStatus(row('w', { state: 'running', status: 'Up 2 days' }), now)).toBe('Up 2 days');
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
    for (const h of ['#/containers', '#/containers/abc/terminal', '#/projects/shop', '#/images/sha256%3Aab', '#/volumes/data/sub/dir', '#/networks/n1', '#/disk', '#/settings', '#/engines', '#/troubleshoot']) {
      expect(formatRoute(parseRoute(h))).toBe(h);
    }
    expect(parseRoute('#/containers/abc/bogus')).toEqual({ page: 'container', id: 'abc', tab: 'logs' });
    expect(parseRoute('')).toEqual({ page: 'containers' });
    expect(parseRoute('#/volumes/data')).toEqual({ page: 'volume', name: 'data', path: '/' });
  });
});
