import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { installFakeBackend } from '../../test-utils.js';
import { useSession } from '../../stores/session.js';
import { useUi } from '../../stores/ui.js';
import { BuildsPage, formatDuration, parseBuildArgs } from './BuildsPage.js';
import { makeTar } from '../../lib/tar.js';

afterEach(cleanup);
// jsdom has neither media queries nor canvas, which xterm.js asks for; the log view still renders (as DOM).
window.matchMedia ??= ((q: string) => ({ matches: false, media: q, onchange: null, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false })) as typeof window.matchMedia;
HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
// jsdom's File lacks arrayBuffer() (browsers have it).
File.prototype.arrayBuffer ??= function (this: File) {
  return new Promise<ArrayBuffer>((resolve) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as ArrayBuffer);
    r.readAsArrayBuffer(this);
  });
};
useSession.setState({ activeId: 'e1', capabilities: { desktop: false, pickFolder: false, startAtLogin: false, closeToTray: false, platform: 'linux', version: '0' } });

const record = { id: 'b1', engineId: 'e1', source: '/srv/app', tag: 'app:1', target: '', startedAt: 1_700_000_000_000, durationMs: 4200, status: 'succeeded' as const, imageId: 'sha256:' + 'ab'.repeat(32), steps: 3, cachedSteps: 1 };

describe('Builds page', { timeout: 30_000 }, () => {
  it('starts a build from a path with tag, args and target, shows steps, the result and the history', async () => {
    const history: unknown[] = [];
    const fake = installFakeBackend({ 'builds.list': () => history });
    render(<BuildsPage />);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Folder to build'), '/srv/app');
    await u.type(screen.getByLabelText('Tag'), 'app:1');
    await u.type(screen.getByLabelText('Target stage'), 'final');
    await u.type(screen.getByLabelText('Build args'), 'A=1{Enter}B=two words');
    await u.click(screen.getByRole('button', { name: 'Build' }));
    await waitFor(() => expect(fake.opened).toHaveLength(1));
    expect(fake.opened[0]).toMatchObject({ stream: 'images.build', params: { engineId: 'e1', request: { source: { kind: 'path', path: '/srv/app' }, tag: 'app:1', target: 'final', buildArgs: { A: '1', B: 'two words' }, dockerfile: '', noCache: false } } });
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy();
    fake.emit('images.build', { type: 'step', index: 1, total: 3, instruction: 'FROM busybox' });
    fake.emit('images.build', { type: 'step-done', index: 1, cached: false, durationMs: 12 });
    fake.emit('images.build', { type: 'step', index: 2, total: 3, instruction: 'COPY . /app' });
    fake.emit('images.build', { type: 'step-done', index: 2, cached: true, durationMs: 3 });
    fake.emit('images.build', { type: 'step', index: 3, total: 3, instruction: 'RUN make' });
    fake.emit('images.build', { type: 'step-done', index: 3, cached: false, durationMs: 2500 });
    fake.emit('images.build', { type: 'output', text: 'Successfully built abababababab\n' });
    history.push(record);
    fake.emit('images.build', { type: 'done', record });
    fake.end('images.build');
    await waitFor(() => expect(screen.getByRole('status').textContent).toContain('Built app:1 in 4.2 s (1 of 3 steps cached)'));
    const steps = screen.getByLabelText('Steps').textContent ?? '';
    expect(steps).toContain('FROM busybox 12 ms');
    expect(steps).toContain('COPY . /app cached');
    expect(steps).toContain('RUN make 2.5 s');
    await waitFor(() => expect(screen.getByLabelText('Build history').textContent).toContain('/srv/app'));
    await u.click(screen.getByRole('button', { name: 'Run app:1' }));
    expect(useUi.getState().runImage).toBe('app:1');
  });

  it('sends an uploaded folder as tar chunks', async () => {
    const fake = installFakeBackend({ 'builds.list': () => [] });
    render(<BuildsPage />);
    const u = userEvent.setup();
    await u.click(screen.getByLabelText('Upload a folder'));
    const file = new File(['FROM busybox\n'], 'Dockerfile', { type: 'text/plain' });
    Object.defineProperty(file, 'webkitRelativePath', { value: 'proj/Dockerfile' });
    await u.upload(screen.getByLabelText('Folder to upload'), file);
    await u.click(screen.getByRole('button', { name: 'Build' }));
    await waitFor(() => expect(fake.opened).toHaveLength(1));
    expect(fake.opened[0]!.params).toMatchObject({ request: { source: { kind: 'upload', name: 'proj' } } });
  });

  it('refuses build args that are not KEY=value', async () => {
    installFakeBackend({ 'builds.list': () => [] });
    render(<BuildsPage />);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Folder to build'), '/x');
    await u.type(screen.getByLabelText('Build args'), 'oops');
    await u.click(screen.getByRole('button', { name: 'Build' }));
    expect(screen.getByRole('alert').textContent).toBe('build arg "oops" is not KEY=value');
  });
});

describe('build helpers', () => {
  it('parses build args and formats durations', () => {
    expect(parseBuildArgs('# c\nA=1\n\n B = x=y \n')).toEqual({ A: '1', B: ' x=y' });
    expect([formatDuration(5), formatDuration(1500), formatDuration(125_000)]).toEqual(['5 ms', '1.5 s', '2 min 5 s']);
  });

  it('writes a tar the engine reads: directories implied, a PAX path for long names', () => {
    const long = 'd/'.repeat(60) + 'f.txt';
    const t = makeTar([{ path: 'a/b.txt', data: new TextEncoder().encode('hi') }, { path: long, data: new Uint8Array(3) }]);
    expect(t.length % 512).toBe(0);
    const text = new TextDecoder('latin1').decode(t);
    expect(text.slice(0, 2)).toBe('a/');
    expect(text).toContain(`path=${long}\n`);
  });
});
