import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { installFakeBackend } from '../../test-utils.js';
import { useSession } from '../../stores/session.js';
import { dispatchModelEvent, resetModel } from '../../stores/model.js';
import { useUi } from '../../stores/ui.js';
import { useViews } from '../../stores/views.js';
import { ContainersPage, ROW_HEIGHT } from './ContainersPage.js';
import type { ContainerRow } from '../../../../electron/contract/models.js';

afterEach(cleanup);

const c = (i: number, extra: Partial<ContainerRow> = {}): ContainerRow => ({
  id: `id${String(i).padStart(5, '0')}`,
  name: `svc-${i}`,
  image: 'busybox',
  imageId: 'sha256:1',
  command: 'sh',
  created: i,
  state: i % 2 ? 'running' : 'exited',
  status: i % 2 ? 'Up 1 minute' : 'Exited (0)',
  ports: [],
  labels: {},
  volumes: [],
  networks: [],
  ...extra,
});

function load(rows: ContainerRow[]) {
  useSession.setState({ activeId: 'e1' });
  useUi.setState({ containerSearch: '', selection: new Set(), collapsedProjects: new Set() });
  useViews.setState({ loaded: true, views: {} });
  resetModel('e1');
  dispatchModelEvent('e1', { type: 'containers', reset: true, upsert: rows, remove: [] });
}

describe('ContainersPage', () => {
  it('renders only the rows in view for 2,000 containers, and filters them', async () => {
    installFakeBackend({});
    load(Array.from({ length: 2000 }, (_, i) => c(i)));
    render(<ContainersPage />);
    const rendered = document.querySelectorAll('.trow[data-id]').length;
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(Math.ceil(800 / ROW_HEIGHT) + 20);
    expect(screen.getByText('2000 of 2000 containers')).toBeTruthy();
    // Newest first.
    expect(document.querySelector('.trow[data-id]')!.getAttribute('data-name')).toBe('svc-1999');
    await userEvent.setup().type(screen.getByLabelText('Search containers'), 'svc-1234');
    expect(screen.getByText('1 of 2000 containers')).toBeTruthy();
    expect([...document.querySelectorAll('.trow[data-id]')].map((r) => r.getAttribute('data-name'))).toEqual(['svc-1234']);
    // jsdom renders slowly on a loaded machine; the time is not what this test measures.
  }, 30_000);

  it('follows the model: a container added by an event shows up, a removed one goes', () => {
    installFakeBackend({});
    load([c(1)]);
    render(<ContainersPage />);
    expect(screen.queryByText('svc-2')).toBeNull();
    act(() => dispatchModelEvent('e1', { type: 'containers', reset: false, upsert: [c(2)], remove: ['id00001'] }));
    expect(screen.getByText('svc-2')).toBeTruthy();
    expect(screen.queryByText('svc-1')).toBeNull();
  });

  it('bulk remove asks first, offers force, and removes exactly the selection', async () => {
    const fake = installFakeBackend({ 'containers.remove': (p: { ids: string[] }) => p.ids.map((id) => ({ id })) });
    load([c(1), c(2), c(3)]);
    render(<ContainersPage />);
    const u = userEvent.setup();
    await u.click(screen.getByLabelText('Select svc-1'));
    await u.click(screen.getByLabelText('Select svc-3'));
    expect(screen.getByText('2 selected')).toBeTruthy();
    await u.click(within(screen.getByLabelText('Bulk actions')).getByRole('button', { name: 'Remove' }));
    const dialog = screen.getByRole('dialog');
    expect(dialog.textContent).toContain('Remove 2 containers');
    await u.click(within(dialog).getByLabelText('Force (stop running containers first)'));
    await u.click(within(dialog).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(fake.calls).toHaveLength(1));
    expect(fake.calls[0]!.method).toBe('containers.remove');
    expect({ ...(fake.calls[0]!.params as object), ids: [...(fake.calls[0]!.params as { ids: string[] }).ids].sort() }).toEqual({ engineId: 'e1', ids: ['id00001', 'id00003'], force: true, volumes: false });
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('Escape cancels the remove dialog without calling the engine', async () => {
    const fake = installFakeBackend({});
    load([c(1)]);
    render(<ContainersPage />);
    const u = userEvent.setup();
    await u.click(screen.getByRole('button', { name: 'Remove svc-1' }));
    expect(screen.getByRole('dialog')).toBeTruthy();
    await u.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(fake.calls).toEqual([]);
  });

  it('row actions call the engine for that container; compose projects are grouped', async () => {
    const fake = installFakeBackend({ 'containers.action': (p: { ids: string[] }) => p.ids.map((id) => ({ id })) });
    load([c(1, { project: 'shop', service: 'web' }), c(3, { project: 'shop', service: 'api' }), c(2)]);
    render(<ContainersPage />);
    const group = document.querySelector('.trow.group[data-project="shop"]')!;
    expect(group.textContent).toContain('2/2 running');
    const u = userEvent.setup();
    await u.click(screen.getByRole('button', { name: 'Stop svc-1' }));
    await u.click(screen.getByRole('button', { name: 'Start svc-2' }));
    await waitFor(() => expect(fake.calls).toHaveLength(2));
    expect(fake.calls.map((x) => x.params)).toEqual([
      { engineId: 'e1', ids: ['id00001'], action: 'stop' },
      { engineId: 'e1', ids: ['id00002'], action: 'start' },
    ]);
    await u.click(screen.getByRole('button', { name: 'Collapse shop' }));
    expect(screen.queryByRole('button', { name: 'Stop svc-1' })).toBeNull();
  });

  it('streams CPU and memory only for running rows on screen', async () => {
    const fake = installFakeBackend({});
    load([c(1), c(2), c(3)]);
    render(<ContainersPage />);
    await waitFor(() => expect(fake.opened.filter((o) => o.stream === 'containers.statsSummary')).toHaveLength(1));
    expect(fake.opened[0]!.params).toEqual({ engineId: 'e1', ids: ['id00003', 'id00001'] });
    fake.emit('containers.statsSummary', { id: 'id00003', cpuPercent: 12.5, memUsage: 2_000_000, memLimit: 1e9 });
    expect(await screen.findByText('12.5%')).toBeTruthy();
    expect(screen.getByText('2.0 MB')).toBeTruthy();
  });
});

describe('ContainersPage view', () => {
  it('status text follows the shared clock without any refetch', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const now = Date.now();
      installFakeBackend({});
      load([c(1, { state: 'running', status: 'Up 5 seconds', startedAt: now - 5_000 })]);
      render(<ContainersPage />);
      const status = () => document.querySelector('.trow[data-id="id00001"] [data-state]')!.textContent;
      expect(status()).toBe('Up 5 seconds');
      await act(async () => {
        vi.advanceTimersByTime(3_000);
      });
      expect(status()).toBe('Up 8 seconds');
      await act(async () => {
        vi.advanceTimersByTime(60_000);
      });
      expect(status()).toBe('Up About a minute');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a row shows the action in flight and disables its buttons until the engine answers', async () => {
    let answer!: (v: unknown) => void;
    installFakeBackend({ 'containers.action': () => new Promise((r) => (answer = r)) });
    load([c(1)]);
    render(<ContainersPage />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Stop svc-1' }));
    const pill = document.querySelector('.trow[data-id="id00001"] [data-pending]')!;
    expect(pill.getAttribute('data-pending')).toBe('stopping');
    expect(pill.textContent).toBe('Stopping…');
    expect((screen.getByRole('button', { name: 'Restart svc-1' }) as HTMLButtonElement).disabled).toBe(true);
    await act(async () => answer([{ id: 'id00001' }]));
    await waitFor(() => expect(document.querySelector('.trow[data-id="id00001"] [data-pending]')).toBeNull());
  });

  it('sorts by a header and remembers the choice in the settings', async () => {
    const fake = installFakeBackend({ 'settings.update': (p: unknown) => p });
    load([c(1, { name: 'b' }), c(2, { name: 'c' }), c(3, { name: 'a' })]);
    render(<ContainersPage />);
    const names = () => [...document.querySelectorAll('.trow[data-name]')].map((r) => r.getAttribute('data-name'));
    expect(names()).toEqual(['a', 'c', 'b']);
    await userEvent.setup().click(screen.getByRole('button', { name: /^Name/ }));
    expect(names()).toEqual(['a', 'b', 'c']);
    await waitFor(() => expect(fake.calls.some((x) => x.method === 'settings.update')).toBe(true), { timeout: 2000 });
    expect(fake.calls.find((x) => x.method === 'settings.update')!.params).toEqual({ views: { containers: { sort: { column: 'name', dir: 'asc' } } } });
  });

  it('filters by image, project and label from the toolbar', async () => {
    installFakeBackend({ 'settings.update': (p: unknown) => p });
    load([c(1, { image: 'nginx', labels: { tier: 'web' } }), c(2, { project: 'shop', service: 'db' }), c(3)]);
    render(<ContainersPage />);
    const u = userEvent.setup();
    await u.selectOptions(screen.getByLabelText('Filter by image'), 'nginx');
    expect(screen.getByText('1 of 3 containers')).toBeTruthy();
    await u.selectOptions(screen.getByLabelText('Filter by image'), '');
    await u.selectOptions(screen.getByLabelText('Filter by compose project'), 'shop');
    expect([...document.querySelectorAll('.trow[data-name]')].map((r) => r.getAttribute('data-name'))).toEqual(['svc-2']);
    await u.selectOptions(screen.getByLabelText('Filter by compose project'), '');
    await u.type(screen.getByLabelText('Filter by label'), 'tier=web');
    expect([...document.querySelectorAll('.trow[data-name]')].map((r) => r.getAttribute('data-name'))).toEqual(['svc-1']);
  });
});
