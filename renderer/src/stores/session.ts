/** Connection to the backend, the engines (and which is active), settings and host capabilities. */
import { create } from 'zustand';
import type { EngineInfo, HostCapabilities, Settings } from '../../../electron/contract/models.js';
import type { ConnectionProblem, ConnectionState } from '../api/transport.js';

export interface SessionState {
  connection: ConnectionState;
  connectionError: string | undefined;
  connectionProblem: ConnectionProblem | undefined;
  /** The transport had been open before (so a close is a lost connection, not a first failure). */
  wasConnected: boolean;
  engines: EngineInfo[];
  activeId: string | null;
  /** The engines list has arrived at least once. */
  enginesLoaded: boolean;
  settings: Settings | null;
  capabilities: HostCapabilities | null;
}

export const useSession = create<SessionState>()(() => ({
  connection: 'connecting',
  connectionError: undefined,
  connectionProblem: undefined,
  wasConnected: false,
  engines: [],
  activeId: null,
  enginesLoaded: false,
  settings: null,
  capabilities: null,
}));

export function activeEngine(s: SessionState): EngineInfo | undefined {
  return s.engines.find((e) => e.id === s.activeId);
}

/** The active engine's id, for calls; throws when there is none (callers render only with one). */
export function requireEngineId(): string {
  const id = useSession.getState().activeId;
  if (!id) throw new Error('no engine is selected');
  return id;
}
