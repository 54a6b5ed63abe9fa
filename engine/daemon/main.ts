#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * berthd: the Berth container engine daemon. Parses flags, loads the config
 * file, starts the daemon, and handles SIGTERM (clean exit, containers keep
 * running) and SIGHUP (config reload).
 */
import { parseArgs } from 'node:util';
import { ConfigError, mergeConfig, readConfigFile, type FlagConfig } from './config.js';
import { log } from './log.js';
import { Daemon } from './daemon.js';
import { BERTH_VERSION, ENGINE_VERSION } from '../version.js';

const usage = `Usage: berthd [OPTIONS]

The Berth container engine (Docker Engine API compatible)

Options:
      --config-file string   Daemon configuration file (default "/etc/berth/daemon.json")
      --data-root string     Root directory of persistent state (default "/var/lib/berth")
      --exec-root string     Root directory for execution state (default "/var/run/berth")
  -H, --host list            Daemon socket(s) to connect to (default unix:///var/run/berth/docker.sock)
  -G, --group string         Group for the unix socket (default "berth" if it exists, else root)
      --tls                  Use TLS; implied by --tlsverify
      --tlscacert string     Trust certs signed only by this CA (default "~/.docker/ca.pem")
      --tlscert string       Path to TLS certificate file (default "~/.docker/cert.pem")
      --tlskey string        Path to TLS key file (default "~/.docker/key.pem")
      --tlsverify            Use TLS and verify the remote (clients need a certificate signed by --tlscacert)
  -l, --log-level string     Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")
  -D, --debug                Enable debug mode
      --bip string           Network address for the default bridge
      --bridge string        Name of the default bridge interface
      --insecure-registry list   Registries that may be reached over plain HTTP
      --registry-mirror list     Docker Hub mirrors
  -v, --version              Print version information and quit
  -h, --help                 Print usage
`;

/** Boolean flags that also take dockerd's `--flag=true|false` form, which parseArgs does not. */
type ExplicitBoolean = 'tls' | 'tlsverify';

function takeExplicitBooleans(argv: string[]): { rest: string[]; values: Partial<Record<ExplicitBoolean, boolean>> } {
  const values: Partial<Record<ExplicitBoolean, boolean>> = {};
  const rest: string[] = [];
  for (const a of argv) {
    const m = /^--(tls|tlsverify)(?:=(true|false|1|0))?$/.exec(a);
    if (m) values[m[1] as ExplicitBoolean] = m[2] === undefined || m[2] === 'true' || m[2] === '1';
    else rest.push(a);
  }
  return { rest, values };
}

function parseFlags(argv: string[]): { flags: FlagConfig; configFile: string; configFileGiven: boolean } {
  const booleans = takeExplicitBooleans(argv);
  const { values } = parseArgs({
    args: booleans.rest,
    options: {
      'config-file': { type: 'string' },
      'data-root': { type: 'string' },
      'exec-root': { type: 'string' },
      host: { type: 'string', short: 'H', multiple: true },
      group: { type: 'string', short: 'G' },
      tlscacert: { type: 'string' },
      tlscert: { type: 'string' },
      tlskey: { type: 'string' },
      'log-level': { type: 'string', short: 'l' },
      debug: { type: 'boolean', short: 'D' },
      bip: { type: 'string' },
      bridge: { type: 'string' },
      'insecure-registry': { type: 'string', multiple: true },
      'registry-mirror': { type: 'string', multiple: true },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  if (values.version) {
    process.stdout.write(`berthd version ${BERTH_VERSION} (Docker Engine API ${ENGINE_VERSION} compatible)\n`);
    process.exit(0);
  }
  const flags: FlagConfig = {};
  if (values['data-root']) flags['data-root'] = values['data-root'];
  if (values['exec-root']) flags['exec-root'] = values['exec-root'];
  if (values.host?.length) flags.hosts = values.host;
  if (values['log-level']) flags['log-level'] = values['log-level'];
  if (values.debug) flags.debug = true;
  if (values.bip) flags.bip = values.bip;
  if (values.bridge) flags.bridge = values.bridge;
  if (values['insecure-registry']?.length) flags['insecure-registries'] = values['insecure-registry'];
  if (values['registry-mirror']?.length) flags['registry-mirrors'] = values['registry-mirror'];
  if (values.group !== undefined) flags.group = values.group;
  for (const k of ['tlscacert', 'tlscert', 'tlskey'] as const) if (values[k] !== undefined) flags[k] = values[k];
  if (booleans.values.tls !== undefined) flags.tls = booleans.values.tls;
  if (booleans.values.tlsverify !== undefined) flags.tlsverify = booleans.values.tlsverify;
  return { flags, configFile: values['config-file'] ?? '/etc/berth/daemon.json', configFileGiven: values['config-file'] !== undefined };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n\n${usage}`);
    process.exit(125);
  }
  const load = () => mergeConfig(parsed.flags, readConfigFile(parsed.configFile, parsed.configFileGiven), parsed.configFile);
  let config;
  try {
    config = load();
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n`);
    process.exit(1);
  }
  log.setLevel(config.logLevel);
  if (process.getuid && process.getuid() !== 0) {
    log.error('berthd needs to run as root');
    process.exit(1);
  }
  const daemon = new Daemon(config, log);
  try {
    await daemon.start();
  } catch (err) {
    log.error('failed to start daemon', { err: (err as Error).message });
    await daemon.stop().catch(() => undefined);
    process.exit(1);
  }
  // Start-up code has run: a launcher that caches compiled code (the VM's, vm/guest/launch.ts) writes it now.
  (process as NodeJS.EventEmitter).emit('berth:ready');
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down; containers keep running', { signal: sig });
    await daemon.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    try {
      const next = load();
      daemon.reload(next);
      log.info('reloaded configuration', { file: parsed.configFile, logLevel: next.logLevel });
    } catch (err) {
      log.error('configuration reload failed; keeping the current settings', { err: err instanceof ConfigError ? err.message : String(err) });
    }
  });
  // A bug in one request must not take the engine down.
  process.on('uncaughtException', (err) => log.error('uncaught exception', { err: err.stack ?? err.message }));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { err: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
}

void main();
