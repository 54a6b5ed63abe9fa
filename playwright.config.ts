import { defineConfig } from '@playwright/test';

/**
 * Product-level tests. `engine` drives berthd with the stock docker CLI and
 * dockerode; `dashboard` drives the web UI in Debian's Chromium; `electron`
 * launches the desktop app where the Electron binary exists; `packaging`
 * installs the Linux engine service (.deb maintainer scripts, berth engine
 * install) into throwaway Debian roots.
 */
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: Number(process.env.BERTH_E2E_WORKERS ?? 2),
  retries: 0,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]] : [['list']],
  globalSetup: './e2e/support/global-setup.ts',
  projects: [
    { name: 'engine', testDir: 'e2e/engine' },
    { name: 'dashboard', testDir: 'e2e/dashboard' },
    { name: 'electron', testDir: 'e2e/electron' },
    // The Berth VM under real QEMU (tcg here): one boot per file, so each test sets its own long timeout.
    { name: 'vm', testDir: 'e2e/vm' },
    { name: 'packaging', testDir: 'e2e/packaging' },
  ],
});
