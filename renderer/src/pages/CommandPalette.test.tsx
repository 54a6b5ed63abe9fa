import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { CommandPalette, matchCommands } from './CommandPalette.js';
import { installFakeBackend } from '../test-utils.js';
import { useUi } from '../stores/ui.js';
import { dispatchModelEvent, resetModel } from '../stores/model.js';
import { useSession } from '../stores/session.js';

afterEach(cleanup);

describe('command palette', () => {
  it('matches every word', () => {
    const cmds = [{ id: 'a', label: 'Go to Images', run: () => undefined }, { id: 'b', label: 'Open container web', hint: 'nginx', run: () => undefined }];
    expect(matchCommands(cmds, 'open nginx').map((c) => c.id)).toEqual(['b']);
    expect(matchCommands(cmds, '').length).toBe(2);
  });

  it('is driven from the keyboard: type, arrows, Enter', async () => {
    installFakeBackend({});
    useSession.setState({ activeId: 'e1', engines: [] });
    resetModel('e1');
    dispatchModelEvent('e1', { type: 'containers', reset: true, upsert: [{ id: 'c1', name: 'web', image: 'nginx', imageId: 'i', command: '', created: 1, state: 'running', status: '', ports: [], labels: {}, volumes: [], networks: [] }], remove: [] });
    useUi.setState({ paletteOpen: true });
    render(<CommandPalette />);
    const u = userEvent.setup();
    await u.keyboard('container web');
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual(['Open container webnginx']);
    await u.keyboard('{Enter}');
    expect(useUi.getState().route).toEqual({ page: 'container', id: 'c1', tab: 'logs' });
    expect(useUi.getState().paletteOpen).toBe(false);
  });
});
