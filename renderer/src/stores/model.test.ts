import { describe, expect, it } from 'vitest';
import { applyModelEvent, dispatchModelEvent, emptyModel, resetModel, useModel } from './model.js';
import type { ContainerRow } from '../../../electron/contract/models.js';

const c = (id: string, state: ContainerRow['state'] = 'running'): ContainerRow => ({ id, name: id, image: 'busybox', imageId: 'sha256:1', command: 'sh', created: 1, state, status: '', ports: [], labels: {}, volumes: [], networks: [] });

describe('model store', () => {
  it('applies a snapshot, then upserts and removals, and marks kinds loaded', () => {
    let s = emptyModel('e');
    expect(s.status).toBe('connecting');
    s = { ...s, ...applyModelEvent(s, { type: 'containers', reset: true, upsert: [c('a'), c('b')], remove: [] }) };
    expect([...s.containers.keys()]).toEqual(['a', 'b']);
    expect(s.loaded.containers).toBe(true);
    expect(s.loaded.images).toBe(false);
    const before = s.containers;
    s = { ...s, ...applyModelEvent(s, { type: 'containers', reset: false, upsert: [c('b', 'exited'), c('c')], remove: ['a'] }) };
    expect([...s.containers.values()].map((x) => [x.id, x.state])).toEqual([['b', 'exited'], ['c', 'running']]);
    // A new map each time, so subscribers see the change.
    expect(s.containers).not.toBe(before);
    s = { ...s, ...applyModelEvent(s, { type: 'containers', reset: true, upsert: [c('z')], remove: [] }) };
    expect([...s.containers.keys()]).toEqual(['z']);
    s = { ...s, ...applyModelEvent(s, { type: 'status', status: 'unreachable', error: 'gone', retryInMs: 500 }) };
    expect(s).toMatchObject({ status: 'unreachable', error: 'gone', retryInMs: 500 });
  });

  it('ignores events for an engine that is no longer selected', () => {
    resetModel('one');
    dispatchModelEvent('one', { type: 'volumes', reset: true, upsert: [{ name: 'v', driver: 'local', mountpoint: '/m', labels: {}, scope: 'local' }], remove: [] });
    expect(useModel.getState().volumes.size).toBe(1);
    resetModel('two');
    dispatchModelEvent('one', { type: 'volumes', reset: true, upsert: [{ name: 'w', driver: 'local', mountpoint: '/m', labels: {}, scope: 'local' }], remove: [] });
    expect(useModel.getState().volumes.size).toBe(0);
  });
});
