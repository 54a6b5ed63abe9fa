/**
 * Feeds the stores from the backend's streams: engines and settings always,
 * the model of whichever engine is active. Streams are (re)opened when the
 * transport connects and when the active engine changes — never polled.
 */
import type { BerthClient, StreamHandle } from '../../../electron/contract/client.js';
import type { Transport } from '../api/transport.js';
import { useSession } from './session.js';
import { dispatchModelEvent, resetModel, useModel } from './model.js';
import type { HostCommand } from '../../../electron/contract/api.js';
import { navigate, useUi } from './ui.js';
import { loadViews } from './views.js';

/** Carries out a command from the desktop shell's menu or tray. */
export function runHostCommand(c: HostCommand): void {
  switch (c.type) {
    case 'navigate':
      navigate({ page: c.page });
      return;
    case 'palette':
      useUi.setState({ paletteOpen: true });
      return;
    case 'pull':
      useUi.setState({ pullOpen: true });
      return;
    case 'resync':
      resync();
      return;
    case 'open-container':
      navigate({ page: 'container', id: c.id, tab: 'logs' });
      return;
  }
}

export function startSync(client: BerthClient, transport: Transport): () => void {
  let engines: StreamHandle<'engines.watch'> | undefined;
  let settings: StreamHandle<'settings.watch'> | undefined;
  let model: StreamHandle<'model.watch'> | undefined;
  let commands: StreamHandle<'host.commands'> | undefined;
  let modelEngine: string | null = null;

  const openModel = (engineId: string | null) => {
    model?.close();
    model = undefined;
    modelEngine = engineId;
    resetModel(engineId);
    if (!engineId || transport.state() !== 'open') return;
    model = client.open(
      'model.watch',
      { engineId },
      {
        onEvent: (e) => dispatchModelEvent(engineId, e),
        onEnd: (err) => {
          if (err && modelEngine === engineId) useModel.setState({ status: 'unreachable', error: err.message });
        },
      },
    );
  };

  const openAll = () => {
    engines?.close();
    settings?.close();
    engines = client.open('engines.watch', {}, {
      onEvent: (snap) => {
        useSession.setState({ engines: snap.engines, activeId: snap.activeId, enginesLoaded: true });
      },
    });
    settings = client.open('settings.watch', {}, {
      onEvent: (s) => {
        useSession.setState({ settings: s });
        loadViews(s.views);
      },
    });
    commands?.close();
    commands = client.open('host.commands', {}, { onEvent: runHostCommand });
    client.call('host.capabilities', {}).then(
      (c) => useSession.setState({ capabilities: c }),
      () => undefined,
    );
    openModel(useSession.getState().activeId);
  };

  reopenModel = () => openModel(useSession.getState().activeId);
  const offActive = useSession.subscribe((s, prev) => {
    if (s.activeId !== prev.activeId && s.activeId !== modelEngine) openModel(s.activeId);
  });

  const onState = (s: ReturnType<Transport['state']>) => {
    useSession.setState((prev) => ({ connection: s, connectionError: transport.lastError(), connectionProblem: transport.problem(), wasConnected: prev.wasConnected || s === 'open' }));
    if (s === 'open') openAll();
  };
  const offState = transport.onState(onState);
  onState(transport.state());

  return () => {
    reopenModel = undefined;
    offActive();
    offState();
    engines?.close();
    settings?.close();
    model?.close();
    commands?.close();
  };
}

let reopenModel: (() => void) | undefined;

/** Reopens the model stream (a "refresh": a fresh snapshot from the engine). */
export function resync(): void {
  reopenModel?.();
}
