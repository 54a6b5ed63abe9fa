/**
 * Each table's remembered view (sort, filters, grouping), kept in the user's
 * settings so it survives restarts in the app and in `berth dashboard` alike.
 * Loaded once from the settings stream; from then on the screen is the source
 * and changes are saved (debounced) with settings.update.
 */
import { create } from 'zustand';
import type { TableView } from '../../../electron/contract/models.js';
import { api } from '../api/client.js';

export interface ViewsState {
  loaded: boolean;
  views: Record<string, TableView>;
}

export const useViews = create<ViewsState>()(() => ({ loaded: false, views: {} }));

/** Typing in a filter field is saved once it pauses; clicks (sort, a select) are saved at once. */
const TYPING_DELAY_MS = 300;
let saveTimer: ReturnType<typeof setTimeout> | undefined;

function save(): void {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  void api()
    .call('settings.update', { views: useViews.getState().views })
    .catch(() => undefined);
}

// A view changed just before the page goes away is still kept.
if (typeof window !== 'undefined') window.addEventListener('pagehide', () => saveTimer !== undefined && save());

/** Called by sync.ts with the stored views the first time settings arrive. */
export function loadViews(views: Record<string, TableView>): void {
  if (useViews.getState().loaded) return;
  useViews.setState({ loaded: true, views });
}

export function setView(table: string, patch: Partial<TableView>, opts: { typing?: boolean } = {}): void {
  useViews.setState((s) => ({ views: { ...s.views, [table]: { ...s.views[table], ...patch } } }));
  clearTimeout(saveTimer);
  if (opts.typing) saveTimer = setTimeout(save, TYPING_DELAY_MS);
  else save();
}

export function setFilter(table: string, name: string, value: string, opts: { typing?: boolean } = {}): void {
  const current = useViews.getState().views[table]?.filters ?? {};
  const filters = { ...current };
  if (value) filters[name] = value;
  else delete filters[name];
  setView(table, { filters }, opts);
}

const NO_FILTERS: Record<string, string> = {};

export function useView(table: string): TableView {
  return useViews((s) => s.views[table] ?? EMPTY);
}
const EMPTY: TableView = {};

export function useFilters(table: string): Record<string, string> {
  return useViews((s) => s.views[table]?.filters ?? NO_FILTERS);
}

/** A table's remembered sort (or its default) and the setter that remembers a new one. */
export function useSort(table: string, fallback: { column: string; dir: 'asc' | 'desc' }): [{ column: string; dir: 'asc' | 'desc' }, (s: { column: string; dir: 'asc' | 'desc' }) => void] {
  const sort = useViews((s) => s.views[table]?.sort) ?? fallback;
  return [sort, (next) => setView(table, { sort: next })];
}
