/**
 * The Berth VM in the app, end to end: a real `berth dashboard` (the build under test) in Debian's
 * Chromium, and real QEMU (tcg here). On Linux the VM is offered beside native berthd: the spec
 * picks it on the Engines page, starts it from the dashboard and watches the boot's steps reach
 * running with the accelerator shown, runs a container from the Run dialog on it, changes the
 * VM's CPUs in Settings (which offers the restart, and the restarted VM has them), reads the
 * VM's console and berthd's log in Troubleshoot, and stops the VM through the tray's menu model
 * and action runner (electron/backend/tray/, what the Electron tray calls) in a backend of its own
 * over the same Berth folders. Two tcg boots serve the file, so its tests run in order.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { chromiumLaunch, DashboardProcess } from '../dashboard/fixtures.js';
import { busyboxTar, distDir } from '../support/paths.js';
import { ensureVmImage, vmImagesDir, vmUnavailable } from '../support/vm-image.js';

test.describe.configure({ mode: 'serial' });

let home: string;
let dockerSocket: string;
let dashboard: DashboardProcess | undefined;
let browser: Browser | undefined;
let page: Page;
const VM = 'berth-vm';
const container = `vmapp-${process.pid}`;

function docker(args: string[], timeoutMs = 300_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${dockerSocket}`, DOCKER_CONFIG: path.join(home, 'docker-config') }, timeout: timeoutMs }, (err: ExecFileException | null, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

/** Processes whose command line names this test's folder (QEMU, the host agent). */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir) && !cmd.includes('dashboard')) found.push(`${p}: ${cmd.slice(0, 160)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The header's state badge for the active engine. */
const headerState = () => page.getByRole('banner').locator('[data-engine-state]');

/** Clicks Start/Restart and records every boot step the page shows until the engine runs. */
async function watchBoot(click: () => Promise<void>, timeoutMs: number): Promise<string[]> {
  const seen: string[] = [];
  await click();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const step = await page
      .locator('[data-vm-step]')
      .first()
      .getAttribute('data-vm-step', { timeout: 200 })
      .catch(() => null);
    const progress = await page
      .getByRole('banner')
      .locator('.progress-text')
      .textContent({ timeout: 200 })
      .catch(() => null);
    for (const s of [step, progress?.replace(/…$/, '')]) if (s && seen.at(-1) !== s) seen.push(s);
    if ((await headerState().textContent().catch(() => '')) === 'running') break;
    if ((await headerState().textContent().catch(() => '')) === 'error') throw new Error(`the VM failed to start: ${await page.locator('.error-box').first().textContent().catch(() => '')}\n${dashboard?.log ?? ''}`);
    if (Date.now() > deadline) throw new Error(`the VM did not reach running within ${timeoutMs / 1000} s; steps seen: ${seen.join(' → ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return seen;
}

test.beforeAll(async () => {
  const why = await vmUnavailable('amd64');
  if (why) {
    console.log(`[vm] e2e/vm/vm-app.spec.ts is skipped on this machine: ${why} (scripts/install-system-deps.sh installs it)`);
    test.skip(true, why);
  }
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'bvmapp-'));
  dockerSocket = path.join(home, 'run', 'vm-default', 'docker.sock');
  // Small, so two tcg boots fit the machine; the CPUs change later through Settings.
  fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ vm: { cpus: 1, memoryMiB: 1024, diskGiB: 8 } }));
});

test.afterAll(async () => {
  test.setTimeout(4 * 60_000);
  await browser?.close();
  if (dashboard) {
    // A failed test must not leave a VM running: stop it through the dashboard's own engine...
    await dashboard.call('engines.stop', { engineId: VM }).catch(() => undefined);
    await dashboard.stop({ keepHome: true });
  }
  if (!home) return;
  // ...then kill what this run started and is still there (a host agent left in error, its QEMU).
  for (const f of ['host-agent.pid', 'qemu.pid']) {
    let pid = 0;
    try {
      pid = Number(fs.readFileSync(path.join(home, 'run', 'vm-default', f), 'utf8').trim()) || 0;
    } catch {
      // no such process was started
    }
    if (pid > 0 && processesUsing(home).some((l) => l.startsWith(`${pid}:`))) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(home, { recursive: true, force: true });
});

test('the VM is offered beside native berthd, starts from the dashboard, and its boot steps reach running with the accelerator shown', async () => {
  test.setTimeout(50 * 60_000); // a fresh machine builds the image first; a cached one checks hashes
  const image = await ensureVmImage('amd64', (m) => console.log(`[vm-app] ${m}`));
  console.log(`[vm-app] image: ${image.summary}`);
  // No docker context of the VM's own (the test's DOCKER_CONFIG is its own anyway).
  // tcg as these machines have it (no usable KVM): the accelerator choice itself is vm.spec's and the unit tests'.
  dashboard = await DashboardProcess.start({ BERTH_VM_IMAGES: vmImagesDir, BERTH_VM_ARCH: 'amd64', BERTH_VM_CONTEXT: '', BERTH_VM_ACCEL: 'tcg' }, [], home);
  browser = await chromium.launch(chromiumLaunch);
  page = await browser.newPage();

  await page.goto(`${dashboard.url}#/engines`);
  const row = page.locator(`.trow[data-engine="${VM}"]`);
  await expect(row).toContainText('Berth (VM)');
  await expect(row.locator('[data-engine-state]')).toHaveText('stopped');
  // Native berthd stays Berth's default on Linux.
  await expect(page.locator('.trow[data-engine="berth"]')).toContainText('active');
  await row.getByRole('button', { name: 'Use Berth (VM)' }).click();
  await expect(page.locator('#engine-select')).toHaveValue(VM);

  // The engine gate offers the start; the boot's steps show as they happen.
  await page.goto(`${dashboard.url}#/containers`);
  await expect(page.getByRole('heading', { name: 'Berth (VM) is not running' })).toBeVisible();
  const steps = await watchBoot(() => page.getByRole('button', { name: 'Start VM' }).click(), 12 * 60_000);
  console.log(`[vm-app] boot steps: ${steps.join(' → ')}`);
  expect(steps).toContain('Booting the kernel');
  expect(steps).toContain('Starting the engine');
  expect(steps.indexOf('Booting the kernel')).toBeLessThan(steps.indexOf('Starting the engine'));
  await expect(headerState()).toHaveText('running');

  await page.goto(`${dashboard.url}#/engines`);
  await expect(row.locator('[data-engine-state]')).toHaveText('running');
  await expect(row.locator('[data-vm-accelerator="tcg"]')).toContainText('Accelerator: tcg (software emulation');
  const info = (await dashboard.call('engines.list', {})) as { engines: Array<{ id: string; vm?: { accelerator?: string; resources?: { cpus: number } } }> };
  expect(info.engines.find((e) => e.id === VM)?.vm).toMatchObject({ accelerator: 'tcg', resources: { cpus: 1, memoryMiB: 1024, diskGiB: 8 } });
});

test('a container runs from the Run dialog on the VM engine', async () => {
  test.setTimeout(10 * 60_000);
  const imp = await docker(['import', '--change', 'CMD ["sleep", "3600"]', busyboxTar, 'vmapp-busybox:1']);
  expect(imp.code, imp.stderr).toBe(0);
  await page.goto(`${dashboard!.url}#/images`);
  await page.getByRole('button', { name: 'Run vmapp-busybox:1' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Container name').fill(container);
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.getByRole('heading', { name: container })).toBeVisible({ timeout: 120_000 });
  // It runs in the VM: the VM's engine has it, running.
  const state = await docker(['inspect', '-f', '{{.State.Running}}', container]);
  expect(state.code, state.stderr).toBe(0);
  expect(state.stdout.trim()).toBe('true');
  await page.goto(`${dashboard!.url}#/containers`);
  await expect(page.locator(`.trow[data-name="${container}"] [data-state]`)).toContainText(/running|Up/i);
});

test('Troubleshoot shows the VM console and berthd\'s log inside the VM', async () => {
  await page.goto(`${dashboard!.url}#/troubleshoot`);
  await expect(page.locator('[data-vm-console-log]')).toContainText('berth-init:');
  await expect(page.locator('[data-engine-log]')).not.toHaveText(/^Loading…$/);
  await expect(page.locator('[data-engine-log]')).not.toContainText('which is not running');
  await expect(page.getByText("berthd's log (inside the VM)")).toBeVisible();
  await expect(page.getByRole('button', { name: 'Reset VM data…' })).toBeVisible();
  // The reset asks for the word before it deletes anything.
  await page.getByRole('button', { name: 'Reset VM data…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('stops the VM and deletes its disk');
  await expect(dialog.getByRole('button', { name: 'Delete everything' })).toBeDisabled();
  await dialog.getByLabel('Type reset to confirm').fill('rese');
  await expect(dialog.getByRole('button', { name: 'Delete everything' })).toBeDisabled();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(headerState()).toHaveText('running');
});

test('a CPU change in Settings is refused when out of range, then offers the restart, and the restarted VM has it', async () => {
  test.setTimeout(15 * 60_000);
  await page.goto(`${dashboard!.url}#/settings`);
  const form = page.getByRole('form', { name: 'Berth VM settings' });
  await expect(form).toContainText('with 1 CPU, 1024 MiB of memory and a 8 GiB disk');
  await form.getByLabel('VM CPUs').fill('99');
  await form.getByRole('button', { name: 'Save VM settings' }).click();
  await expect(form.getByRole('alert')).toContainText('CPUs must be a whole number from 1 to 64 (got 99)');
  await expect(page.locator('[data-vm-restart-required]')).toHaveCount(0);

  await form.getByLabel('VM CPUs').fill('2');
  await form.getByRole('button', { name: 'Save VM settings' }).click();
  const notice = page.locator('[data-vm-restart-required]');
  await expect(notice).toContainText('Restart the VM to apply: CPUs');
  const steps = await watchBoot(async () => {
    await notice.getByRole('button', { name: 'Restart VM' }).click();
    await expect(headerState()).not.toHaveText('running', { timeout: 60_000 });
  }, 12 * 60_000);
  console.log(`[vm-app] restart: ${steps.join(' → ')}`);
  expect(steps).toContain('Starting the engine');
  await expect(notice).toHaveCount(0);
  await expect(form).toContainText('with 2 CPUs');
  const ncpu = await docker(['info', '--format', '{{.NCPU}}']);
  expect(ncpu.code, ncpu.stderr).toBe(0);
  expect(ncpu.stdout.trim()).toBe('2');
  // The container is still there after the restart (stopped: it has no restart policy).
  expect((await docker(['inspect', '-f', '{{.Name}}', container])).stdout.trim()).toBe(`/${container}`);
});

test('the tray menu model stops the VM with the action the tray runs, and the dashboard shows it stopped', async () => {
  test.setTimeout(5 * 60_000);
  type BackendModule = typeof import('../../electron/backend/backend.js');
  type OwnEngineModule = typeof import('../../electron/backend/engines/own-engine.js');
  type PathsModule = typeof import('../../electron/backend/paths.js');
  type TrayMenuModule = typeof import('../../electron/backend/tray/tray-menu.js');
  type TrayStateModule = typeof import('../../electron/backend/tray/tray-state.js');
  type TrayActionsModule = typeof import('../../electron/backend/tray/tray-actions.js');
  // The build under test, as the Electron main process loads it.
  const load = <T>(p: string) => import(path.join(distDir, 'electron', 'backend', p)) as Promise<T>;
  const { Backend } = await load<BackendModule>('backend.js');
  const { berthEngines } = await load<OwnEngineModule>('engines/own-engine.js');
  const { berthPaths } = await load<PathsModule>('paths.js');
  const { buildTrayMenu } = await load<TrayMenuModule>('tray/tray-menu.js');
  const { TrayStateSource } = await load<TrayStateModule>('tray/tray-state.js');
  const { runTrayAction } = await load<TrayActionsModule>('tray/tray-actions.js');

  const env = dashboard!.env;
  const paths = berthPaths(env);
  // Berth's engines as the Electron main process makes them (native berthd, the VM offered beside it).
  let offered: ReturnType<OwnEngineModule['berthEngines']>['offered'] = [];
  const backend = new Backend({
    paths,
    host: { capabilities: () => ({ desktop: true, pickFolder: false, startAtLogin: false, closeToTray: true, platform: process.platform }) },
    ownEngine: (settings) => {
      const made = berthEngines({ paths, vmSettings: () => settings.get().vm, env });
      offered = made.offered;
      return made.own;
    },
    offeredEngines: () => offered,
    discover: () => [],
  });
  const tray = new TrayStateSource(backend);
  const notes: string[] = [];
  try {
    await backend.engines.probeAll();
    type Item = { type: 'item'; id: string; label: string; enabled: boolean; action?: Parameters<typeof runTrayAction>[1] };
    const find = (id: string) => buildTrayMenu(tray.state()).find((i): i is Item => i.type === 'item' && i.id === id);
    // The VM is the active engine (chosen on the Engines page, kept in settings.json).
    expect(find('status')?.label).toMatch(/^Berth \(VM\): running/);
    expect(find('vm-accelerator')?.label).toBe('Accelerator: tcg (software emulation)');
    await expect.poll(() => find('containers-none')?.label ?? find('containers-title')?.label, { timeout: 30_000 }).toBeTruthy();
    const stop = find('engine-stop');
    expect(stop).toMatchObject({ label: 'Stop VM', enabled: true, action: { kind: 'engine', op: 'stop', engineId: VM } });
    await runTrayAction(backend, stop!.action!, { showWindow: () => undefined, navigate: () => undefined, openContainer: () => undefined, quit: () => undefined, notify: (t, b) => notes.push(`${t}: ${b}`) });
    expect(notes).toEqual([]);
    expect(find('status')?.label).toBe('Berth (VM): stopped');
    expect(find('engine-start')).toMatchObject({ label: 'Start VM', enabled: true });
  } finally {
    tray.dispose();
    await backend.dispose();
  }
  // The dashboard's own engine sees the VM gone; nothing of it is left running.
  await expect(headerState()).toHaveText('stopped', { timeout: 60_000 });
  // The engine's pages say so (the test before left the dashboard on Settings, which is not gated).
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Containers' }).click();
  await expect(page.getByRole('heading', { name: 'Berth (VM) is not running' })).toBeVisible();
  await expect.poll(() => processesUsing(home), { timeout: 30_000 }).toEqual([]);
  expect(fs.existsSync(dockerSocket)).toBe(false);
});
