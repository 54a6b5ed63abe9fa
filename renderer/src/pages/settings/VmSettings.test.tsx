import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { EngineInfo } from '../../../../electron/contract/models.js';
import { installFakeBackend } from '../../test-utils.js';
import { useSession } from '../../stores/session.js';
import { VmSettingsForm } from './VmSettings.js';
import { bootStepIndex, VmBootSteps } from '../engine/VmStatus.js';

afterEach(cleanup);
useSession.setState({ capabilities: { desktop: false, pickFolder: false, startAtLogin: false, closeToTray: false, platform: 'linux', version: '0' } });

const vm = (extra: Partial<EngineInfo> = {}): EngineInfo => ({ id: 'berth-vm', name: 'Berth (VM)', kind: 'vm', host: 'unix:///run/vm-default/docker.sock', source: 'berth', state: 'running', controllable: true, configurable: false, vm: { accelerator: 'tcg', resources: { cpus: 2, memoryMiB: 2048, diskGiB: 64, arch: 'amd64' } }, ...extra });

describe('VM settings', { timeout: 30_000 }, () => {
  it('saves CPUs, memory, disk and shared folders (add, read-only, remove) as one vm patch', async () => {
    const fake = installFakeBackend({ 'settings.update': (p: { vm: unknown }) => p });
    render(<VmSettingsForm engine={vm()} vm={{ engine: 'vm', cpus: 2 }} />);
    expect(screen.getByText(/with 2 CPUs, 2048 MiB of memory and a 64 GiB disk/)).toBeTruthy();
    expect(screen.getByText(/Accelerator: tcg \(software emulation\)/)).toBeTruthy();
    const u = userEvent.setup();
    await u.clear(screen.getByLabelText('VM CPUs'));
    await u.type(screen.getByLabelText('VM CPUs'), '3');
    await u.type(screen.getByLabelText('VM memory (MiB)'), '1536');
    await u.type(screen.getByLabelText('Folder to share'), '/srv/code{Enter}');
    await u.type(screen.getByLabelText('Folder to share'), '/srv/data');
    await u.click(screen.getByRole('button', { name: 'Add' }));
    await u.click(screen.getByLabelText('/srv/data read-only'));
    await u.type(screen.getByLabelText('Folder to share'), '/tmp/x{Enter}');
    await u.click(screen.getByRole('button', { name: 'Remove /tmp/x' }));
    await u.click(screen.getByRole('button', { name: 'Save VM settings' }));
    await waitFor(() => expect(fake.calls.filter((c) => c.method === 'settings.update')).toHaveLength(1));
    expect(fake.calls.find((c) => c.method === 'settings.update')!.params).toEqual({ vm: { engine: 'vm', cpus: 3, memoryMiB: 1536, sharedFolders: [{ path: '/srv/code' }, { path: '/srv/data', readOnly: true }] } });
  });

  it('file sharing: shows what the running VM uses and why, and saves another choice', async () => {
    const fake = installFakeBackend({ 'settings.update': (p: { vm: unknown }) => p });
    const engine = vm({ vm: { accelerator: 'tcg', fileSharingNote: 'virtiofs (/usr/lib/qemu/virtiofsd, as root) for read-write folders', resources: { cpus: 2, memoryMiB: 2048, diskGiB: 64, arch: 'amd64' } } });
    render(<VmSettingsForm engine={engine} vm={{ engine: 'vm' }} />);
    expect(screen.getByText(/Now: virtiofs \(\/usr\/lib\/qemu\/virtiofsd, as root\) for read-write folders\./)).toBeTruthy();
    expect((screen.getByLabelText('File sharing') as HTMLSelectElement).value).toBe('auto');
    const u = userEvent.setup();
    await u.selectOptions(screen.getByLabelText('File sharing'), '9p');
    await u.click(screen.getByRole('button', { name: 'Save VM settings' }));
    await waitFor(() => expect(fake.calls.filter((c) => c.method === 'settings.update')).toHaveLength(1));
    expect(fake.calls.find((c) => c.method === 'settings.update')!.params).toEqual({ vm: { engine: 'vm', fileSharing: '9p' } });
  });

  it('shows the backend\'s reason when the VM would refuse the values', async () => {
    installFakeBackend({
      'settings.update': () => {
        throw Object.assign(new Error('invalid VM settings: CPUs must be a whole number from 1 to 64 (got 99)'), { status: 400 });
      },
    });
    render(<VmSettingsForm engine={vm()} vm={undefined} />);
    const u = userEvent.setup();
    await u.type(screen.getByLabelText('VM CPUs'), '99');
    await u.click(screen.getByRole('button', { name: 'Save VM settings' }));
    expect((await screen.findByRole('alert')).textContent).toContain('CPUs must be a whole number from 1 to 64 (got 99)');
  });

  it('says which saved changes wait for a restart and offers it', async () => {
    const fake = installFakeBackend({ 'engines.restart': () => vm() });
    useSession.setState({ engines: [vm()] });
    render(<VmSettingsForm engine={vm({ vm: { accelerator: 'tcg', restartRequired: ['CPUs', 'shared folders'] } })} vm={{ cpus: 4 }} />);
    expect(screen.getByRole('status').textContent).toContain('Restart the VM to apply: CPUs, shared folders');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Restart VM' }));
    await waitFor(() => expect(fake.calls).toContainEqual({ method: 'engines.restart', params: { engineId: 'berth-vm' } }));
  });

  it('no restart notice while the VM is stopped (the next start uses the settings)', () => {
    installFakeBackend({});
    render(<VmSettingsForm engine={vm({ state: 'stopped', vm: { restartRequired: ['CPUs'] } })} vm={{ cpus: 4 }} />);
    expect(screen.queryByRole('status')).toBeNull();
  });
});

describe('VM boot steps', () => {
  it('marks the host agent\'s current step', () => {
    expect(bootStepIndex({ state: 'starting', progress: { step: 'Booting the kernel' } })).toBe(1);
    expect(bootStepIndex({ state: 'starting', progress: { step: 'Starting the engine' } })).toBe(2);
    expect(bootStepIndex({ state: 'running' })).toBe(3);
    expect(bootStepIndex({ state: 'stopped' })).toBe(-1);
    render(<VmBootSteps engine={vm({ state: 'starting', progress: { step: 'Booting the kernel' } })} />);
    const list = screen.getByRole('list', { name: 'VM boot progress' });
    expect(list.getAttribute('data-vm-step')).toBe('Booting the kernel');
    expect(list.querySelector('[aria-current="step"]')!.textContent).toBe('Booting kernel');
  });
});
