/**
 * Ctrl/Cmd+K: type to find a page, an action or a container, arrows to pick,
 * Enter to run. Every action in the app can be reached from here.
 */
import { useMemo, useState } from 'react';
import { useModel } from '../stores/model.js';
import { activeEngine, useSession } from '../stores/session.js';
import { navigate, useUi } from '../stores/ui.js';
import { resync } from '../stores/sync.js';
import { api } from '../api/client.js';
import { attempt } from '../stores/ui.js';
import { engineAction, switchEngine } from './engine/engine-actions.js';

export interface Command {
  id: string;
  label: string;
  hint?: string;
  run: () => void;
}

export function matchCommands(commands: Command[], query: string): Command[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return commands.filter((c) => words.every((w) => `${c.label} ${c.hint ?? ''}`.toLowerCase().includes(w))).slice(0, 50);
}

export function CommandPalette() {
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const containers = useModel((s) => s.containers);
  const engines = useSession((s) => s.engines);
  const engine = useSession(activeEngine);
  const theme = useSession((s) => s.settings?.theme);
  const close = () => useUi.setState({ paletteOpen: false });

  const commands = useMemo<Command[]>(() => {
    const list: Command[] = [
      { id: 'go-containers', label: 'Go to Containers', hint: 'Alt+1', run: () => navigate({ page: 'containers' }) },
      { id: 'go-images', label: 'Go to Images', hint: 'Alt+2', run: () => navigate({ page: 'images' }) },
      { id: 'go-builds', label: 'Go to Builds', hint: 'Alt+3', run: () => navigate({ page: 'builds' }) },
      { id: 'go-volumes', label: 'Go to Volumes', hint: 'Alt+4', run: () => navigate({ page: 'volumes' }) },
      { id: 'go-networks', label: 'Go to Networks', hint: 'Alt+5', run: () => navigate({ page: 'networks' }) },
      { id: 'go-disk', label: 'Go to Disk usage', hint: 'Alt+6', run: () => navigate({ page: 'disk' }) },
      { id: 'go-engines', label: 'Go to Engines', hint: 'Alt+7', run: () => navigate({ page: 'engines' }) },
      { id: 'go-troubleshoot', label: 'Go to Troubleshoot', hint: 'Alt+8', run: () => navigate({ page: 'troubleshoot' }) },
      { id: 'go-settings', label: 'Go to Settings', hint: 'Alt+9', run: () => navigate({ page: 'settings' }) },
      { id: 'go-registries', label: 'Sign in to a registry…', run: () => navigate({ page: 'settings' }) },
      { id: 'pull', label: 'Pull an image…', run: () => useUi.setState({ pullOpen: true }) },
      { id: 'run', label: 'Run a container…', run: () => useUi.setState({ runImage: '' }) },
      { id: 'refresh', label: 'Refresh (resync with the engine)', hint: 'Alt+R', run: () => resync() },
      { id: 'search', label: 'Search this page', hint: '/', run: () => setTimeout(() => document.querySelector<HTMLInputElement>('[data-search]')?.focus(), 0) },
      {
        id: 'theme',
        label: `Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`,
        run: () => void attempt('Could not change the theme', () => api().call('settings.update', { theme: theme === 'dark' ? 'light' : 'dark' })),
      },
    ];
    // Only what makes sense now: Start when it is not running, Stop and Restart when it is.
    if (engine?.controllable && engine.state !== 'starting' && engine.state !== 'stopping') {
      if (engine.state === 'running') {
        list.push({ id: 'engine-stop', label: `Stop ${engine.name}`, run: () => void engineAction(engine.id, 'stop') });
        list.push({ id: 'engine-restart', label: `Restart ${engine.name}`, run: () => void engineAction(engine.id, 'restart') });
      } else list.push({ id: 'engine-start', label: `Start ${engine.name}`, run: () => void engineAction(engine.id, 'start') });
    }
    for (const e of engines) if (e.id !== engine?.id) list.push({ id: `use-${e.id}`, label: `Use engine ${e.name}`, hint: e.host, run: () => void switchEngine(e.id) });
    for (const c of containers.values()) list.push({ id: `c-${c.id}`, label: `Open container ${c.name}`, hint: c.image, run: () => navigate({ page: 'container', id: c.id, tab: 'logs' }) });
    return list;
  }, [containers, engines, engine, theme]);

  const shown = matchCommands(commands, query);
  const pick = (c: Command | undefined) => {
    if (!c) return;
    close();
    c.run();
  };
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div className="palette" role="dialog" aria-modal="true" aria-label="Command palette">
        <input
          autoFocus
          role="combobox"
          aria-expanded="true"
          aria-controls="palette-list"
          aria-activedescendant={shown[index] ? `cmd-${shown[index].id}` : undefined}
          placeholder="Type a command or a container name"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setIndex(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              setIndex((i) => Math.min(shown.length - 1, i + 1));
            } else if (e.key === 'ArrowUp') {
              e.preventDefault();
              setIndex((i) => Math.max(0, i - 1));
            } else if (e.key === 'Enter') {
              e.preventDefault();
              pick(shown[index]);
            } else if (e.key === 'Escape') {
              e.preventDefault();
              close();
            }
          }}
        />
        <ul id="palette-list" role="listbox">
          {shown.map((c, i) => (
            <li key={c.id} id={`cmd-${c.id}`} role="option" aria-selected={i === index} onMouseEnter={() => setIndex(i)} onClick={() => pick(c)}>
              <span>{c.label}</span>
              {c.hint && <span className="muted">{c.hint}</span>}
            </li>
          ))}
          {shown.length === 0 && <li className="muted">No matches</li>}
        </ul>
      </div>
    </div>
  );
}
