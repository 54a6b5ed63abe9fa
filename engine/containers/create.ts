/**
 * `docker create`: Docker's defaults and the image's settings under the user's, a name, a
 * record, a root filesystem, and the create-time checks of networking and volumes.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { InvalidParameterError } from '../errdefs.js';
import { validateLogOpts, ConfigError } from '../daemon/config.js';
import type { ContainerConfig, HostConfig } from '../api/types.js';
import type { ImageRunConfig } from '../images/oci.js';
import { rfc3339Nano } from '../system/time.js';
import { Container, initialState, type ContainerRecord } from './container.js';
import { normalizeCreate, type CreateBody } from './create-request.js';
import { randomName, validateName } from './names.js';
import { mergeEnv } from './env.js';
import type { Lifecycle } from './lifecycle.js';

export interface CreateResult {
  Id: string;
  Warnings: string[];
}

function generateId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    // A short ID made only of digits would be read as a number by some tools.
    if (!/^\d{12}/.test(id)) return id;
  }
}

/** The image's settings under the user's (moby's merge of the image config at create). */
export function applyImageDefaults(config: ContainerConfig, ic: ImageRunConfig): void {
  config.Env = mergeEnv(ic.Env ?? [], config.Env);
  const userSetEntrypoint = config.Entrypoint !== null;
  if (!userSetEntrypoint) config.Entrypoint = ic.Entrypoint ?? null;
  if (config.Cmd === null && !userSetEntrypoint) config.Cmd = ic.Cmd ?? null;
  if (!config.WorkingDir) config.WorkingDir = ic.WorkingDir ?? '';
  if (!config.User) config.User = ic.User ?? '';
  if (ic.ExposedPorts) config.ExposedPorts = { ...ic.ExposedPorts, ...(config.ExposedPorts ?? {}) };
  if (ic.Volumes) config.Volumes = { ...ic.Volumes, ...(config.Volumes ?? {}) };
  config.Labels = { ...(ic.Labels ?? {}), ...config.Labels };
  if (!config.StopSignal && ic.StopSignal) config.StopSignal = ic.StopSignal;
  // moby's merge: the image's HEALTHCHECK, field by field where the request leaves one unset.
  if (!config.Healthcheck && ic.Healthcheck) config.Healthcheck = { ...ic.Healthcheck };
  else if (config.Healthcheck && ic.Healthcheck) {
    const h = config.Healthcheck;
    if (!h.Test || h.Test.length === 0) h.Test = ic.Healthcheck.Test ?? null;
    for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (!h[k] && ic.Healthcheck[k]) h[k] = ic.Healthcheck[k];
  }
}

/**
 * A container's json-file options as dockerd checks them at create: max-file without max-size is
 * accepted there (it just never rotates), unlike in daemon.json; its value must still be a count.
 */
function containerLogOpts(opts: Record<string, string>): Record<string, string> {
  if (opts['max-size'] || opts['max-file'] === undefined) return opts;
  const { 'max-file': maxFile, ...rest } = opts;
  const n = Number(maxFile);
  if (!Number.isInteger(n) || n < 1) throw new InvalidParameterError('max-file cannot be less than 1');
  return rest;
}

/** Warnings dockerd gives at create (verifyPlatformContainerResources, the host-network port check). */
export function createWarnings(hc: HostConfig): string[] {
  const warnings: string[] = [];
  if (hc.OomKillDisable && hc.Memory === 0) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  if (hc.NetworkMode === 'host' && Object.keys(hc.PortBindings ?? {}).length > 0) warnings.push('Published ports are discarded when using host network mode');
  return warnings;
}

export async function createContainer(lc: Lifecycle, body: CreateBody, name: string | null): Promise<CreateResult> {
  const d = lc.d;
  let n;
  try {
    n = normalizeCreate(body, { logDriver: d.config.logDriver, logOpts: d.config.logOpts });
    validateLogOpts(containerLogOpts(n.hostConfig.LogConfig.Type === 'json-file' || n.hostConfig.LogConfig.Type === 'local' ? n.hostConfig.LogConfig.Config : {}));
  } catch (err) {
    if (err instanceof ConfigError) throw new InvalidParameterError(err.message);
    throw err;
  }
  const { config, hostConfig, networkingConfig } = n;
  // Settings are checked before the image, as dockerd does (an unknown runtime never pulls).
  hostConfig.Runtime = d.runtimeNames.resolveName(body.HostConfig?.Runtime);
  d.volumes.verifyHostPaths(hostConfig);
  if (!config.Image) throw new InvalidParameterError('No image specified');
  const image = d.images.lookup(config.Image);
  applyImageDefaults(config, image.config.config ?? {});
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0) throw new InvalidParameterError('no command specified');
  const warnings = createWarnings(hostConfig);

  // Like dockerd, a missing network or container:<x> is an error at start, not create: a 404 here would make the CLI pull the image.
  d.networking.validateMode(hostConfig.NetworkMode);

  const id = generateId();
  if (!config.Hostname) config.Hostname = hostConfig.NetworkMode === 'host' ? os.hostname() : id.slice(0, 12);
  let cname: string;
  if (name) cname = validateName(name);
  else {
    let i = 0;
    do cname = randomName(i++ > 5 ? i : 0);
    while (d.store.nameTaken(cname));
  }
  const record: ContainerRecord = {
    id,
    name: cname,
    created: rfc3339Nano(),
    path: argv[0]!,
    args: argv.slice(1),
    config,
    hostConfig,
    networkingConfig,
    imageId: image.id,
    topLayer: image.topLayer,
    state: initialState(),
    restartCount: 0,
    hasBeenStartedBefore: false,
    hasBeenManuallyStopped: false,
    mounts: [],
    networks: d.networking.initialEndpoints(hostConfig.NetworkMode, networkingConfig.EndpointsConfig),
    ports: {},
    sandboxKey: '',
    logPath: lc.logPath(id),
  };
  // The container-wide --mac-address (Config.MacAddress, API < 1.44) is its NetworkMode endpoint's MAC, as moby migrates it.
  const primary = record.networks[hostConfig.NetworkMode];
  if (config.MacAddress && primary && !primary.MacAddress) primary.MacAddress = config.MacAddress;
  await d.networking.creating(record);
  await d.volumes.creating(record, image);
  const c = new Container(record);
  d.store.add(c);
  try {
    await fsp.mkdir(d.store.dir(id), { recursive: true, mode: 0o700 });
    await d.filesystems.create(id);
    await d.store.save(c);
  } catch (err) {
    await d.store.remove(c).catch(() => undefined);
    await d.filesystems.remove(id).catch(() => undefined);
    throw err;
  }
  lc.event(c, 'create');
  return { Id: id, Warnings: warnings };
}
