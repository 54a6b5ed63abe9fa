#!/usr/bin/env node
/**
 * The `berth` command: run the dashboard in a browser (`berth dashboard`),
 * start everything on a Linux host (`berth up`), control Berth's own engine
 * (`berth engine start|stop|status|logs`), and print versions.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Backend, BERTH_APP_VERSION, defaultBerthdEngine, type HostAdapter } from '../backend/backend.js';
import { berthPaths } from '../backend/paths.js';
import type { BerthdEngine } from '../backend/engines/berthd-engine.js';
import { DashboardServer } from '../dashboard/server.js';

const usage = `Usage: berth COMMAND

Berth: a desktop container platform

Commands:
  up                    Start Berth's engine (berthd) if it is not running, then serve the dashboard
  dashboard [--port N]  Serve the dashboard on 127.0.0.1 and print its URL (with an access token)
  engine start          Start Berth's engine (berthd)
  engine stop           Stop Berth's engine (containers keep running)
  engine status         Show whether Berth's engine is running
  engine logs [-n N]    Print the last N lines of the engine's log (default 100)
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

function ownEngine(): BerthdEngine {
  if (process.platform !== 'linux') fail('Berth runs its engine natively on Linux only; on macOS and Windows the desktop app runs it in its VM');
  return defaultBerthdEngine(berthPaths());
}

async function serveDashboard(port: number, engine: BerthdEngine | undefined, onStop?: () => Promise<void>): Promise<void> {
  const backend = new Backend({ host: dashboardHost, ...(engine ? { ownEngine: engine } : {}), log: (m) => process.stderr.write(`berth: ${m}\n`) });
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
      await serveDashboard(parsePort(values.port), process.platform === 'linux' ? ownEngine() : undefined);
      return;
    }
    case 'up': {
      const { values } = parseArgs({ args: rest, options: { port: { type: 'string', short: 'p' } }, strict: true });
      const engine = ownEngine();
      const wasRunning = (await engine.probe()) === 'running';
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
    case 'engine': {
      const [sub, ...args] = rest;
      const engine = ownEngine();
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
          const pid = engine.livePid();
          const info = engine.info();
          process.stdout.write(`${state}${info.version ? ` (${info.version})` : ''}${pid ? `, pid ${pid}` : ''}, ${engine.host}\n`);
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
