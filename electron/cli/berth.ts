#!/usr/bin/env node
/**
 * The `berth` command: run the dashboard in a browser (`berth dashboard`),
 * start everything on a Linux host (`berth up`), control Berth's own engine
 * (`berth engine start|stop|status|logs`), and print versions.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Backend, BERTH_APP_VERSION, type HostAdapter } from '../backend/backend.js';
import { berthPaths } from '../backend/paths.js';
import { BerthdEngine } from '../backend/engines/berthd-engine.js';
import { berthEngines, createOwnEngine } from '../backend/engines/own-engine.js';
import { VmEngine } from '../backend/engines/vm-engine.js';
import type { Engine } from '../backend/engines/engine.js';
import { installPlan, installedUnit, SERVICE_GROUP, SERVICE_UNIT } from '../backend/engines/linux-service.js';
import { SettingsStore } from '../backend/settings/settings-store.js';
import { DashboardServer } from '../dashboard/server.js';
import { vmCommand, printVmReady, vmProgressPrinter } from './vm-commands.js';

const usage = `Usage: berth COMMAND

Berth: a desktop container platform

Commands:
  up                    Start Berth's engine (berthd, or the VM where the platform needs it) if it is not running, then serve the dashboard
  dashboard [--port N]  Serve the dashboard on 127.0.0.1 and print its URL (with an access token)
  engine start          Start Berth's engine (berthd)
  engine stop           Stop Berth's engine (containers keep running)
  engine status         Show whether Berth's engine is running
  engine logs [-n N]    Print the last N lines of the engine's log (default 100)
  engine install [--user NAME]
                        Install Berth's engine as a system service (berth.service) and add NAME
                        (default: you) to the berth group that may use it; asks for root (pkexec)
  engine uninstall      Remove the berth.service system service (engine data is kept)
  vm start              Start the Berth VM (berthd in a Linux VM under QEMU) and print how long it took
  vm stop               Stop the VM (the guest shuts down cleanly; QEMU is killed after a timeout)
  vm restart            Stop, then start the VM
  vm status [--json]    Show the VM's state, accelerator, boot timings and engine socket
  vm logs [-n N] [--engine|--host]   The VM's console (or berthd's log in the VM, or the host agent's log)
  vm shell              A root shell in the VM, for troubleshooting
  vm build [--arch A]   Build the VM image (amd64, arm64 or all) from Debian packages
  version               Show the Berth version

The dashboard finds engines like the docker CLI does (DOCKER_HOST, docker contexts) plus Berth's own.
`;

const here = path.dirname(fileURLToPath(import.meta.url));

function rendererDir(): string {
  return process.env.BERTH_RENDERER_DIR ?? path.resolve(here, '..', '..', 'renderer');
}

const dashboardHost: HostAdapter = {
  capabilities: () => ({ desktop: false, pickFolder: false, startAtLogin: false, closeToTray: false, platform: process.platform }),
};

function fail(message: string, code = 1): never {
  process.stderr.write(`berth: ${message}\n`);
  process.exit(code);
}

function ownEngine(): Engine {
  const settings = new SettingsStore(berthPaths().configDir);
  const engine = createOwnEngine({ paths: berthPaths(), vmSettings: () => settings.get().vm });
  if (!engine) fail(`Berth has no engine of its own on ${process.platform}`);
  return engine;
}

/** berth engine install|uninstall: berth-engine-service.sh as root (pkexec, else sudo). */
async function serviceCommand(action: 'install' | 'uninstall', args: string[]): Promise<void> {
  if (process.platform !== 'linux') fail('the engine service is for Linux; on macOS and Windows the desktop app runs its engine in its VM');
  const { values } = parseArgs({ args, options: { user: { type: 'string' } }, strict: true });
  const user = values.user ?? process.env.SUDO_USER ?? os.userInfo().username;
  const daemonScript = process.env.BERTHD_SCRIPT ?? path.resolve(here, '..', '..', 'engine', 'daemon', 'main.js');
  const packaged = /app\.asar(\.unpacked)?[\\/]/.test(here) || !!process.env.APPIMAGE;
  const plan = installPlan({ action, user, daemonScript, packaged });
  if (action === 'install') process.stdout.write(`Installing ${SERVICE_UNIT}: berthd from ${plan.describe}, socket owned by the ${SERVICE_GROUP} group${user !== 'root' ? `, ${user} added to it` : ''}.\n`);
  if (plan.elevate === 'none' && process.getuid?.() !== 0) fail(`root is needed and neither pkexec nor sudo was found: run as root: ${plan.argv.join(' ')}`);
  const argv = plan.elevate === 'none' ? plan.argv : [plan.elevate, ...plan.argv];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
    child.once('error', (err) => {
      process.stderr.write(`berth: cannot run ${argv[0]}: ${err.message}\n`);
      resolve(127);
    });
    child.once('exit', (c) => resolve(c ?? 1));
  });
  if (code === 126 && plan.elevate === 'pkexec') fail('not authorized (the authentication was cancelled or refused)', 126);
  if (code !== 0) process.exit(code);
  if (action === 'install' && user !== 'root') process.stdout.write(`Done. Log out and in again (or run "newgrp ${SERVICE_GROUP}") so the ${SERVICE_GROUP} group applies; the app will then use ${SERVICE_UNIT}.\n`);
}

async function serveDashboard(port: number, engine: Engine | undefined, onStop?: () => Promise<void>, offered: Engine[] = []): Promise<void> {
  const backend = new Backend({ host: dashboardHost, ownEngine: engine ?? null, offeredEngines: offered, log: (m) => process.stderr.write(`berth: ${m}\n`) });
  const server = new DashboardServer({ handlers: backend.handlers, rendererDir: rendererDir(), port, log: (m) => process.stderr.write(`berth: ${m}\n`) });
  try {
    await server.listen();
  } catch (err) {
    await backend.dispose();
    fail(`cannot listen on 127.0.0.1:${port}: ${(err as Error).message}`);
  }
  process.stdout.write(`Berth dashboard: ${server.url}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    await backend.dispose();
    if (onStop) await onStop().catch((err) => process.stderr.write(`berth: ${(err as Error).message}\n`));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

function parsePort(v: string | undefined): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`invalid port "${v}"`, 125);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(usage);
      return;
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(`Berth ${BERTH_APP_VERSION} (node ${process.versions.node}, ${process.platform}/${process.arch})\n`);
      return;
    case 'dashboard': {
      const { values } = parseArgs({ args: rest, options: { port: { type: 'string', short: 'p' } }, strict: true });
      // Read at each use: the dashboard's backend writes settings.json through its own store.
      const { own, offered } = berthEngines({ paths: berthPaths(), vmSettings: () => new SettingsStore(berthPaths().configDir).get().vm });
      await serveDashboard(parsePort(values.port), own, undefined, offered);
      return;
    }
    case 'up': {
      const { values } = parseArgs({ args: rest, options: { port: { type: 'string', short: 'p' } }, strict: true });
      const engine = ownEngine();
      const wasRunning = (await engine.probe()) === 'running';
      if (engine instanceof VmEngine) {
        if (!wasRunning) {
          process.stdout.write('Starting the Berth VM...\n');
          try {
            printVmReady(await engine.vm.start(vmProgressPrinter()));
          } catch (err) {
            fail(`${(err as Error).message}${(err as { consoleTail?: string }).consoleTail ? `\n${(err as { consoleTail?: string }).consoleTail}` : ''}\n  log: ${engine.vm.paths.hostLog}`);
          }
          await engine.probe();
        } else process.stdout.write(`The Berth VM is running on ${engine.host} (export DOCKER_HOST=${engine.host})\n`);
        await serveDashboard(parsePort(values.port), engine, wasRunning ? undefined : () => engine.stop());
        return;
      }
      if (!wasRunning) {
        process.stdout.write(`Starting berthd on ${engine.host}...\n`);
        try {
          await engine.start();
        } catch (err) {
          fail(`${(err as Error).message}\n  log: ${path.join(berthPaths().logDir, 'berthd.log')}`);
        }
      }
      process.stdout.write(`berthd is running on ${engine.host} (export DOCKER_HOST=${engine.host})\n`);
      // berthd started here stops with `berth up`; containers keep running (live restore).
      await serveDashboard(parsePort(values.port), engine, wasRunning ? undefined : () => engine.stop());
      return;
    }
    case 'vm':
      process.exitCode = await vmCommand(rest, usage);
      return;
    case 'engine': {
      const [sub, ...args] = rest;
      if (sub === 'install' || sub === 'uninstall') return serviceCommand(sub, args);
      const engine = ownEngine();
      // Where Berth's engine is the VM, `berth engine ...` is `berth vm ...`.
      if (engine instanceof VmEngine) {
        process.exitCode = await vmCommand(rest, usage);
        return;
      }
      switch (sub) {
        case 'start':
          try {
            await engine.start();
          } catch (err) {
            fail((err as Error).message);
          }
          process.stdout.write(`berthd is running on ${engine.host}\n`);
          return;
        case 'stop':
          try {
            await engine.stop();
          } catch (err) {
            fail((err as Error).message);
          }
          process.stdout.write('berthd stopped (containers keep running)\n');
          return;
        case 'status': {
          const state = await engine.probe();
          const pid = engine instanceof BerthdEngine ? engine.livePid() : undefined;
          const info = engine.info();
          process.stdout.write(`${state}${info.version ? ` (${info.version})` : ''}${pid ? `, pid ${pid}` : ''}, ${engine.host}${installedUnit() && !(engine instanceof BerthdEngine) ? ` (${SERVICE_UNIT})` : ''}\n`);
          if (info.error) process.stdout.write(`${info.error}\n`);
          process.exitCode = state === 'running' ? 0 : 1;
          return;
        }
        case 'logs': {
          const { values } = parseArgs({ args, options: { tail: { type: 'string', short: 'n' } }, strict: true });
          const n = values.tail === undefined ? 100 : Number(values.tail);
          if (!Number.isInteger(n) || n < 1) fail(`invalid line count "${values.tail}"`, 125);
          const { text, file } = await engine.readLogs(n);
          if (!text && file) process.stderr.write(`berth: no engine log yet (${file})\n`);
          process.stdout.write(text);
          return;
        }
        default:
          fail(`unknown engine command "${sub ?? ''}"\n\n${usage}`, 125);
      }
      return;
    }
    default:
      fail(`unknown command "${cmd}"\n\n${usage}`, 125);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => fail((err as Error).message ?? String(err)));
