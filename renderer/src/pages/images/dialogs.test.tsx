import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { installFakeBackend } from '../../test-utils.js';
import { useSession } from '../../stores/session.js';
import { useUi } from '../../stores/ui.js';
import { RunDialog, formToSpec, emptyForm } from './RunDialog.js';
import { PullDialog, reduceProgress, initialProgress } from './PullDialog.js';
import { RemoveImageDialog } from './ImageDialogs.js';

afterEach(cleanup);
useSession.setState({ activeId: 'e1', capabilities: { desktop: false, pickFolder: false, startAtLogin: false, closeToTray: false, platform: 'linux', version: '0' } });

// Typing a dozen fields into jsdom takes seconds on a loaded machine; the time is not what these tests measure.
describe('Run dialog', { timeout: 30_000 }, () => {
  it('sends the docker run flags from the form and opens the new container', async () => {
    const fake = installFakeBackend({ 'containers.run': () => ({ id: 'c0ffee', warnings: [] }) });
    let closed = false;
    render(<RunDialog image="nginx:1.27" onClose={() => (closed = true)} />);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Container name'), 'web');
    await u.type(screen.getByLabelText('Host port 1'), '8080');
    await u.type(screen.getByLabelText('Container port 1'), '80');
    await u.click(screen.getByRole('button', { name: '+ Volume' }));
    await u.type(screen.getByLabelText('Volume source 1'), '/srv/site');
    await u.type(screen.getByLabelText('Container path 1'), '/usr/share/nginx/html');
    await u.click(screen.getByRole('button', { name: '+ Variable' }));
    await u.type(screen.getByLabelText('Variable 1'), 'MODE');
    await u.type(screen.getByLabelText('Value 1'), 'prod');
    await u.type(screen.getByLabelText('Command'), `nginx -g "daemon off;"`);
    await u.selectOptions(screen.getByLabelText('Restart policy'), 'always');
    // No folder picker outside the desktop app.
    expect(screen.queryByRole('button', { name: 'Browse…' })).toBeNull();
    await u.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(closed).toBe(true));
    expect(fake.calls.filter((c) => c.method !== 'images.inspect')).toEqual([
      {
        method: 'containers.run',
        params: {
          engineId: 'e1',
          start: true,
          spec: {
            image: 'nginx:1.27',
            name: 'web',
            ports: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }],
            volumes: [{ source: '/srv/site', target: '/usr/share/nginx/html', readOnly: false }],
            env: [{ key: 'MODE', value: 'prod' }],
            cmd: ['nginx', '-g', 'daemon off;'],
            restart: 'always',
            interactive: false,
            autoRemove: false,
          },
        },
      },
    ]);
    expect(useUi.getState().route).toEqual({ page: 'container', id: 'c0ffee', tab: 'logs' });
  });

  it('shows what is wrong, keeps the form, and sends nothing for invalid input', async () => {
    const fake = installFakeBackend({});
    render(<RunDialog image="busybox" onClose={() => undefined} />);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Container name'), 'bad name!');
    await u.click(screen.getByRole('button', { name: 'Run' }));
    expect((await screen.findByRole('alert')).textContent).toContain('name: names may contain letters, digits');
    expect((screen.getByLabelText('Container name') as HTMLInputElement).value).toBe('bad name!');
    expect(fake.calls.filter((c) => c.method === 'containers.run')).toEqual([]);
    await u.clear(screen.getByLabelText('Container name'));
    await u.type(screen.getByLabelText('Container port 1'), '0');
    await u.click(screen.getByRole('button', { name: 'Run' }));
    expect((await screen.findByRole('alert')).textContent).toContain('port 1: the container port must be a number from 1 to 65535');
  });

  it('shows the engine error when the run fails', async () => {
    installFakeBackend({ 'containers.run': () => Promise.reject(Object.assign(new Error('Conflict. The container name "/web" is already in use'), { status: 409 })) });
    render(<RunDialog image="busybox" onClose={() => undefined} />);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Container name'), 'web');
    await u.click(screen.getByRole('button', { name: 'Run' }));
    expect((await screen.findByRole('alert')).textContent).toContain('already in use');
  });

  it('maps "random" to an empty host port', () => {
    const f = emptyForm('x');
    f.ports = [{ host: '9000', container: '80', random: true, protocol: 'tcp' }];
    expect(formToSpec(f).ports).toEqual([{ containerPort: 80, protocol: 'tcp' }]);
  });
});

describe('Pull dialog', () => {
  it('shows a progress bar per layer as events arrive, then Done', async () => {
    const fake = installFakeBackend({});
    render(<PullDialog onClose={() => undefined} />);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('Image reference'), 'localhost:5000/app:1');
    await u.click(screen.getByRole('button', { name: 'Pull' }));
    expect(fake.opened).toEqual([{ stream: 'images.pull', params: { engineId: 'e1', ref: 'localhost:5000/app:1' }, id: expect.any(Number) }]);
    fake.emit('images.pull', { type: 'status', status: '1: Pulling from app' });
    fake.emit('images.pull', { type: 'layer', id: 'aaa111', status: 'Downloading', current: 50, total: 200 });
    fake.emit('images.pull', { type: 'layer', id: 'bbb222', status: 'Already exists' });
    const bar = await screen.findByLabelText('Layer aaa111');
    expect(bar.getAttribute('value')).toBe('25');
    expect(screen.getByLabelText('Layer bbb222').getAttribute('value')).toBe('100');
    fake.emit('images.pull', { type: 'layer', id: 'aaa111', status: 'Pull complete' });
    fake.emit('images.pull', { type: 'done', digest: 'sha256:abc' });
    fake.end('images.pull');
    await waitFor(() => expect(screen.getByLabelText('Layer aaa111').getAttribute('value')).toBe('100'));
    expect(await screen.findByText(/Done · sha256:abc/)).toBeTruthy();
  });

  it('shows the engine error', async () => {
    const fake = installFakeBackend({});
    render(<PullDialog onClose={() => undefined} initialRef="nope:1" />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Pull' }));
    fake.emit('images.pull', { type: 'error', message: 'manifest unknown' });
    fake.end('images.pull', 'manifest unknown');
    expect((await screen.findByRole('alert')).textContent).toContain('manifest unknown');
  });

  it('keeps the byte counts of completed layers', () => {
    let s = reduceProgress(initialProgress, { type: 'layer', id: 'a', status: 'Downloading', current: 1, total: 10 });
    s = reduceProgress(s, { type: 'layer', id: 'a', status: 'Download complete' });
    expect(s.layers).toEqual([{ id: 'a', status: 'Download complete', current: 10, total: 10 }]);
  });
});

describe('Remove image dialog', () => {
  const image = { id: 'sha256:1234567890ab', repoTags: ['app:1', 'app:latest'], repoDigests: [], created: 1, size: 1, labels: {} };
  it('untags only the chosen name when the image has several', async () => {
    const fake = installFakeBackend({ 'images.remove': () => [{ untagged: 'app:1' }] });
    let closed = false;
    render(<RemoveImageDialog line={{ key: 'k', image, repository: 'app', tag: '1', ref: 'app:1' }} tags={2} inUse={false} onClose={() => (closed = true)} />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(closed).toBe(true));
    expect(fake.calls[0]).toEqual({ method: 'images.remove', params: { engineId: 'e1', ref: 'app:1', force: false } });
  });
  it('deletes the image (all tags) when asked, forcing past the other tags', async () => {
    const fake = installFakeBackend({ 'images.remove': () => [{ untagged: 'app:1' }, { untagged: 'app:latest' }, { deleted: 'sha256:1234567890ab' }] });
    render(<RemoveImageDialog line={{ key: 'k', image, repository: 'app', tag: '1', ref: 'app:1' }} tags={2} inUse={true} onClose={() => undefined} />);
    const u = userEvent.setup();
    expect(screen.getByText(/Containers use this image/)).toBeTruthy();
    await u.click(screen.getByLabelText(/Delete the image and all 2 tags/));
    await u.click(screen.getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(fake.calls).toHaveLength(1));
    expect(fake.calls[0]!.params).toEqual({ engineId: 'e1', ref: 'sha256:1234567890ab', force: true });
  });
});
