import { describe, expect, it } from 'vitest';
import type { ContainerStatus } from '../api/types.js';
import { Container, initialState, type ContainerRecord } from './container.js';
import { ContainerStateMachine, IllegalTransitionError, type Transition } from './state.js';
import { ZERO_TIME } from '../system/time.js';

function container(status: ContainerStatus): Container {
  const r = { id: 'c'.repeat(64), name: 'x', state: { ...initialState(), status }, restartCount: 0, hasBeenStartedBefore: false, hasBeenManuallyStopped: false, ports: {}, sandboxKey: '' } as unknown as ContainerRecord;
  return new Container(r);
}

const allStatuses: ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

const apply: Record<Transition, (m: ContainerStateMachine, c: Container) => void> = {
  start: (m, c) => m.setRunning(c, { pid: 42, monitor: { pid: 41, startTime: '7' } }),
  restore: (m, c) => m.setRestored(c),
  'start-failed': (m, c) => m.setStartFailed(c, 127, 'not found'),
  exit: (m, c) => m.setStopped(c, { exitCode: 3, oomKilled: false }),
  pause: (m, c) => m.setPaused(c),
  unpause: (m, c) => m.setUnpaused(c),
  'restart-scheduled': (m, c) => m.setRestarting(c),
  'restart-ended': (m, c) => m.endRestarting(c, { manual: true }),
  removing: (m, c) => m.setRemoving(c),
};

/** The transition table: from which statuses each transition may happen, and where it leads. */
const table: Record<Transition, { from: ContainerStatus[]; to: ContainerStatus | 'same' }> = {
  start: { from: ['created', 'exited', 'restarting'], to: 'running' },
  restore: { from: ['running', 'paused'], to: 'same' },
  'start-failed': { from: ['created', 'exited', 'restarting'], to: 'same' },
  exit: { from: ['running', 'paused'], to: 'exited' },
  pause: { from: ['running'], to: 'paused' },
  unpause: { from: ['paused'], to: 'running' },
  'restart-scheduled': { from: ['exited'], to: 'restarting' },
  'restart-ended': { from: ['restarting'], to: 'exited' },
  removing: { from: ['created', 'exited', 'restarting', 'dead'], to: 'removing' },
};

describe('container state machine', () => {
  for (const [t, { from, to }] of Object.entries(table) as Array<[Transition, (typeof table)[Transition]]>) {
    it(`${t}: allowed from ${from.join(', ')}, refused from every other status`, () => {
      for (const s of allStatuses) {
        const m = new ContainerStateMachine();
        const heard: Array<[Transition, ContainerStatus]> = [];
        m.onTransition((_c, tr, prev) => heard.push([tr, prev]));
        const c = container(s);
        expect(m.can(c, t)).toBe(from.includes(s));
        if (from.includes(s)) {
          apply[t](m, c);
          expect(c.status).toBe(to === 'same' ? s : to);
          expect(heard).toEqual([[t, s]]);
        } else {
          expect(() => apply[t](m, c)).toThrow(IllegalTransitionError);
          expect(c.status).toBe(s);
          expect(heard).toEqual([]);
        }
      }
    });
  }

  it('start records the process and clears the last exit', () => {
    const m = new ContainerStateMachine();
    const c = container('exited');
    Object.assign(c.record.state, { exitCode: 3, error: 'boom', oomKilled: true });
    c.record.hasBeenManuallyStopped = true;
    m.setRunning(c, { pid: 42, monitor: { pid: 41, startTime: '7' }, at: 1_700_000_000_000_000_000n });
    expect(c.record.state).toMatchObject({ status: 'running', pid: 42, exitCode: 0, error: '', oomKilled: false, finishedAt: ZERO_TIME, startedAt: '2023-11-14T22:13:20Z' });
    expect(c.record.monitor).toEqual({ pid: 41, startTime: '7' });
    expect(c.record.hasBeenStartedBefore).toBe(true);
    expect(c.record.hasBeenManuallyStopped).toBe(false);
  });

  it('exit records code, OOM and time, and drops the process, monitor, ports and namespace', () => {
    const m = new ContainerStateMachine();
    const c = container('running');
    Object.assign(c.record, { monitor: { pid: 1, startTime: '1' }, sandboxKey: '/run/netns/x', ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] } });
    c.record.state.pid = 9;
    m.setStopped(c, { exitCode: 137, oomKilled: true, at: Date.UTC(2024, 0, 2, 3, 4, 5, 678) });
    expect(c.record.state).toMatchObject({ status: 'exited', exitCode: 137, oomKilled: true, pid: 0, finishedAt: '2024-01-02T03:04:05.678Z' });
    expect(c.record.monitor).toBeUndefined();
    expect(c.record.sandboxKey).toBe('');
    expect(c.record.ports).toEqual({});
  });

  it('a failed start keeps the status and records the error and exit code', () => {
    const m = new ContainerStateMachine();
    const c = container('created');
    c.record.monitor = { pid: 1, startTime: '1' };
    m.setStartFailed(c, 127, 'exec: "nope": executable file not found in $PATH');
    expect(c.record.state).toMatchObject({ status: 'created', exitCode: 127, error: 'exec: "nope": executable file not found in $PATH', pid: 0 });
    expect(c.record.monitor).toBeUndefined();
  });

  it('restart scheduling counts restarts; ending the loop by hand marks a manual stop', () => {
    const m = new ContainerStateMachine();
    const c = container('exited');
    m.setRestarting(c);
    expect(c.record.restartCount).toBe(1);
    m.endRestarting(c, { manual: false });
    expect(c.record.hasBeenManuallyStopped).toBe(false);
    m.setRestarting(c);
    m.endRestarting(c, { manual: true });
    expect(c.record.restartCount).toBe(2);
    expect(c.record.hasBeenManuallyStopped).toBe(true);
  });

  it('a failing listener does not break the transition or the other listeners', () => {
    const m = new ContainerStateMachine();
    const heard: string[] = [];
    m.onTransition(() => {
      throw new Error('listener bug');
    });
    const off = m.onTransition((_c, t) => heard.push(t));
    const c = container('running');
    m.setPaused(c);
    off();
    m.setUnpaused(c);
    expect(c.status).toBe('running');
    expect(heard).toEqual(['pause']);
  });
});
