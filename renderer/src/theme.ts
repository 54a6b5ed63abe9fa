/** Applies the theme setting (light, dark, or the system's, followed live through matchMedia events). */
import { useSession } from './stores/session.js';

export function resolveTheme(setting: 'light' | 'dark' | 'system' | undefined, systemDark: boolean): 'light' | 'dark' {
  if (setting === 'light' || setting === 'dark') return setting;
  return systemDark ? 'dark' : 'light';
}

export function bindTheme(): () => void {
  const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
  const apply = () => {
    const theme = resolveTheme(useSession.getState().settings?.theme, !!mq?.matches);
    document.documentElement.dataset.theme = theme;
    document.documentElement.style.colorScheme = theme;
  };
  apply();
  mq?.addEventListener('change', apply);
  const off = useSession.subscribe((s, p) => {
    if (s.settings?.theme !== p.settings?.theme) apply();
  });
  return () => {
    mq?.removeEventListener('change', apply);
    off();
  };
}

/** The xterm colours for the current theme (terminals are canvas/DOM, not styled by CSS variables). */
export function terminalTheme(): { background: string; foreground: string; cursor: string; selectionBackground: string } {
  const dark = document.documentElement.dataset.theme === 'dark';
  return dark
    ? { background: '#11151c', foreground: '#d8dee9', cursor: '#d8dee9', selectionBackground: '#3b4a63' }
    : { background: '#fbfbfd', foreground: '#1f2430', cursor: '#1f2430', selectionBackground: '#bcd3f5' };
}
