import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { DataTable } from './DataTable.js';
import { BulkBar } from './BulkBar.js';
import type { Column, SortState } from './columns.js';

afterEach(cleanup);

type Row = { name: string; size: number };
const rows: Row[] = [
  { name: 'beta', size: 5 },
  { name: 'alpha', size: 50 },
  { name: 'gamma', size: 1 },
];
const columns: Column<Row>[] = [
  { id: 'name', title: 'Name', width: '1fr', sortValue: (r) => r.name, render: (r) => r.name },
  { id: 'size', title: 'Size', width: '80px', sortValue: (r) => r.size, initialDir: 'desc', render: (r) => String(r.size) },
  { id: 'note', title: 'Note', width: '80px', render: () => 'x' },
];

function Harness({ onSort }: { onSort?: (s: SortState) => void }) {
  const [sort, setSort] = useState<SortState>({ column: 'name', dir: 'asc' });
  return (
    <DataTable
      label="Things"
      columns={columns}
      rows={rows}
      rowKey={(r) => r.name}
      sort={sort}
      onSort={(s) => {
        setSort(s);
        onSort?.(s);
      }}
      rowAttrs={(r) => ({ 'data-thing': r.name })}
    />
  );
}

const order = () => [...document.querySelectorAll('[data-thing]')].map((e) => e.getAttribute('data-thing'));

describe('DataTable', () => {
  it('sorts by any sortable column from its header, says so with aria-sort, and flips on a second click', async () => {
    const onSort = vi.fn();
    render(<Harness onSort={onSort} />);
    expect(order()).toEqual(['alpha', 'beta', 'gamma']);
    const u = userEvent.setup();
    await u.click(screen.getByRole('button', { name: /^Size/ }));
    expect(onSort).toHaveBeenLastCalledWith({ column: 'size', dir: 'desc' });
    expect(order()).toEqual(['alpha', 'beta', 'gamma']);
    expect(screen.getByRole('columnheader', { name: /Size/ }).getAttribute('aria-sort')).toBe('descending');
    await u.click(screen.getByRole('button', { name: /^Size/ }));
    expect(order()).toEqual(['gamma', 'beta', 'alpha']);
    expect(screen.getByRole('columnheader', { name: /Size/ }).getAttribute('aria-sort')).toBe('ascending');
    // A column without a sort value has no sort button.
    expect(within(screen.getByRole('columnheader', { name: 'Note' })).queryByRole('button')).toBeNull();
  });
});

describe('BulkBar', () => {
  it('shows the running action with its busy label and holds every button until it settles', async () => {
    let finish!: () => void;
    const run = vi.fn(() => new Promise<void>((r) => (finish = r)));
    render(
      <BulkBar
        summary="3 selected"
        actions={[
          { id: 'stop', label: 'Stop', busyLabel: 'Stopping…', enabled: true, run },
          { id: 'start', label: 'Start', enabled: true, run: vi.fn() },
        ]}
      />,
    );
    await userEvent.setup().click(screen.getByRole('button', { name: 'Stop' }));
    const busy = screen.getByRole('button', { name: 'Stopping…' });
    expect(busy.getAttribute('aria-busy')).toBe('true');
    expect((busy as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Start' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole('toolbar').getAttribute('aria-busy')).toBe('true');
    await act(async () => finish());
    expect((screen.getByRole('button', { name: 'Stop' }) as HTMLButtonElement).disabled).toBe(false);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
