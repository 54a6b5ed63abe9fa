/** Navigation (hash route), notifications, the command palette and the containers table's selection (its filters and sort are remembered views: views.ts). */
import { create } from 'zustand';
import { formatRoute, parseRoute, type Route } from '../lib/route.js';

export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
}

export interface UiState {
  route: Route;
  toasts: Toast[];
  paletteOpen: boolean;
  /** The Pull dialog, opened from the Images page or the palette. */
  pullOpen: boolean;
  /** The Run dialog, with the image it was opened for. */
  runImage: string | null;
  containerSearch: string;
  collapsedProjects: Set<string>;
  selection: Set<string>;
}

export const useUi = create<UiState>()(() => ({
  route: parseRoute(typeof window === 'undefined' ? '' : window.location.hash),
  toasts: [],
  paletteOpen: false,
  pullOpen: false,
  runImage: null,
  containerSearch: '',
  collapsedProjects: new Set(),
  selection: new Set(),
}));

export function navigate(route: Route): void {
  const hash = formatRoute(route);
  if (window.location.hash !== hash) window.location.hash = hash;
  useUi.setState({ route });
}

/** Keeps the store in step with the address bar (back/forward, typed URLs). */
export function bindRouteToLocation(): () => void {
  const onHash = () => useUi.setState({ route: parseRoute(window.location.hash) });
  window.addEventListener('hashchange', onHash);
  return () => window.removeEventListener('hashchange', onHash);
}

let toastSeq = 0;
export function toast(kind: Toast['kind'], text: string, ms = kind === 'error' ? 8000 : 4000): void {
  const id = ++toastSeq;
  useUi.setState((s) => ({ toasts: [...s.toasts.slice(-4), { id, kind, text }] }));
  // One timer per notification, cleared by itself: nothing polls.
  setTimeout(() => dismissToast(id), ms);
}

export function dismissToast(id: number): void {
  useUi.setState((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs an action and reports failure as a notification; returns the result or undefined. */
export async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    toast('error', `${what}: ${errorText(err)}`);
    return undefined;
  }
}
