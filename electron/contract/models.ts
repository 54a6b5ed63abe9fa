/**
 * The view models that cross the contract: trimmed shapes of Docker API
 * objects (what the screens show), engine descriptions and settings. They are
 * zod schemas so both sides can validate; the types are inferred from them.
 */
import { z } from 'zod';

export const EngineStateSchema = z.enum(['stopped', 'starting', 'running', 'stopping', 'error', 'unreachable', 'unknown']);
export type EngineState = z.infer<typeof EngineStateSchema>;

export const EngineKindSchema = z.enum(['berth', 'endpoint', 'vm']);
export type EngineKind = z.infer<typeof EngineKindSchema>;

/** Which log Troubleshoot shows: the engine's own (berthd's), or the VM's serial console. */
export const EngineLogSourceSchema = z.enum(['engine', 'console']);
export type EngineLogSource = z.infer<typeof EngineLogSourceSchema>;

export const EngineProgressSchema = z.object({ step: z.string(), detail: z.string().optional(), percent: z.number().min(0).max(100).optional() });
export type EngineProgress = z.infer<typeof EngineProgressSchema>;

/** A host folder shared into the VM at the same path (absent list: the user's home folder, read-write). */
export const SharedFolderSchema = z.object({ path: z.string().min(1).max(4096), readOnly: z.boolean().optional() });
export type SharedFolder = z.infer<typeof SharedFolderSchema>;

/** The resources a running VM was started with (the settings may have changed since). */
export const VmResourcesInfoSchema = z.object({
  cpus: z.number(),
  memoryMiB: z.number(),
  diskGiB: z.number(),
  arch: z.string(),
  fileSharing: z.string().optional(),
  sharedFolders: z.array(SharedFolderSchema).optional(),
});

export const VmEngineDetailsSchema = z.object({
  /** hvf / whpx / kvm / tcg, once QEMU runs with one. */
  accelerator: z.string().optional(),
  /** "software emulation" for tcg, or why a faster one was not used. */
  acceleratorNote: z.string().optional(),
  /** What the running VM has. */
  resources: VmResourcesInfoSchema.optional(),
  /** Settings changed since the VM started that apply at its next start ("CPUs", "memory", ...). */
  restartRequired: z.array(z.string()).optional(),
  /** How the shared folders reach the VM (9p, virtiofs) and why: one sentence. */
  fileSharingNote: z.string().optional(),
  /** The console's last lines when it failed. */
  consoleTail: z.string().optional(),
  /** How long the last boot took (launch to engine ready), in seconds. */
  bootSeconds: z.number().optional(),
});
export type VmEngineDetails = z.infer<typeof VmEngineDetailsSchema>;

export const EngineInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: EngineKindSchema,
  /** Where it listens: unix:///…, tcp://…, ssh://… */
  host: z.string(),
  /** Where this engine was found: Berth's own, DOCKER_HOST, a docker context, or added in settings. */
  source: z.enum(['berth', 'env', 'context', 'settings']),
  state: EngineStateSchema,
  error: z.string().optional(),
  progress: EngineProgressSchema.optional(),
  /** Berth can start and stop it (its own berthd, later the VM). */
  controllable: z.boolean(),
  /** Berth can edit its daemon.json (registry mirrors, insecure registries). */
  configurable: z.boolean(),
  version: z.string().optional(),
  /** Berth's VM engine only: what the VM runs with. */
  vm: VmEngineDetailsSchema.optional(),
});
export type EngineInfo = z.infer<typeof EngineInfoSchema>;

export const EnginesSnapshotSchema = z.object({ engines: z.array(EngineInfoSchema), activeId: z.string().nullable() });
export type EnginesSnapshot = z.infer<typeof EnginesSnapshotSchema>;

export const PortSchema = z.object({
  ip: z.string().optional(),
  privatePort: z.number().int(),
  publicPort: z.number().int().optional(),
  type: z.string(),
});
export type Port = z.infer<typeof PortSchema>;

export const ContainerStateSchema = z.enum(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);
export type ContainerState = z.infer<typeof ContainerStateSchema>;

export const ContainerRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  image: z.string(),
  imageId: z.string(),
  command: z.string(),
  created: z.number(),
  state: ContainerStateSchema,
  /** The engine's own status text at the time of the last listing ("Up 5 minutes"); screens derive theirs from the times below. */
  status: z.string(),
  /** When the container last started / finished (ms since the epoch; from inspect, or estimated from `status` until inspected). */
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  exitCode: z.number().optional(),
  /** starting / healthy / unhealthy, when the container has a health check. */
  health: z.string().optional(),
  ports: z.array(PortSchema),
  labels: z.record(z.string(), z.string()),
  /** Named volumes mounted (for "in use by"). */
  volumes: z.array(z.string()),
  networks: z.array(z.string()),
  /** com.docker.compose.project / service labels, for grouping. */
  project: z.string().optional(),
  service: z.string().optional(),
});
export type ContainerRow = z.infer<typeof ContainerRowSchema>;

export const ImageRowSchema = z.object({
  id: z.string(),
  repoTags: z.array(z.string()),
  repoDigests: z.array(z.string()),
  created: z.number(),
  size: z.number(),
  labels: z.record(z.string(), z.string()),
});
export type ImageRow = z.infer<typeof ImageRowSchema>;

export const VolumeRowSchema = z.object({
  name: z.string(),
  driver: z.string(),
  mountpoint: z.string(),
  created: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  scope: z.string(),
});
export type VolumeRow = z.infer<typeof VolumeRowSchema>;

export const NetworkRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  driver: z.string(),
  scope: z.string(),
  internal: z.boolean(),
  subnets: z.array(z.string()),
  created: z.string().optional(),
  labels: z.record(z.string(), z.string()),
});
export type NetworkRow = z.infer<typeof NetworkRowSchema>;

/** A change to one engine's model: a full reset (snapshot) or upserts and removals. */
const delta = <T extends z.ZodType>(row: T) => z.object({ reset: z.boolean(), upsert: z.array(row), remove: z.array(z.string()) });

export const ModelEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: z.enum(['connecting', 'connected', 'unreachable']), error: z.string().optional(), retryInMs: z.number().optional() }),
  z.object({ type: z.literal('containers'), ...delta(ContainerRowSchema).shape }),
  z.object({ type: z.literal('images'), ...delta(ImageRowSchema).shape }),
  z.object({ type: z.literal('volumes'), ...delta(VolumeRowSchema).shape }),
  z.object({ type: z.literal('networks'), ...delta(NetworkRowSchema).shape }),
]);
export type ModelEvent = z.infer<typeof ModelEventSchema>;

export const ThemeSchema = z.enum(['light', 'dark', 'system']);
export type Theme = z.infer<typeof ThemeSchema>;

export const CustomEndpointSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  name: z.string().min(1).max(100),
  host: z.string().regex(/^(unix|tcp|ssh|npipe):\/\//, 'the host must start with unix://, tcp://, ssh:// or npipe://'),
  /** Folder with ca.pem, cert.pem, key.pem for tcp+TLS. */
  tlsCertPath: z.string().optional(),
  tlsVerify: z.boolean().optional(),
});
export type CustomEndpoint = z.infer<typeof CustomEndpointSchema>;

/** A table's remembered view: sort column and direction, filters. */
export const TableViewSchema = z.object({
  sort: z.object({ column: z.string().max(64), dir: z.enum(['asc', 'desc']) }).optional(),
  filters: z.record(z.string().max(64), z.string().max(512)).optional(),
  grouped: z.boolean().optional(),
});
export type TableView = z.infer<typeof TableViewSchema>;

/**
 * Berth's own engine and its VM: which engine on Linux, and the VM's resources (applied at its next
 * start). Only the shapes are here: the ranges are vm/host/resources.ts's (the backend validates a
 * change with it before storing it), so the VM and the app can never disagree.
 */
export const VmSettingsSchema = z.object({
  /** Linux only: berthd natively (default) or in the VM. macOS and Windows always use the VM. */
  engine: z.enum(['native', 'vm']).optional(),
  cpus: z.number().int().optional(),
  memoryMiB: z.number().int().optional(),
  diskGiB: z.number().int().optional(),
  /** Host folders shared into the VM at the same path (absent: the home folder, read-write). */
  sharedFolders: z.array(SharedFolderSchema).max(64).optional(),
  /** How they are shared: auto (virtiofs where this host can run it, else 9p), virtiofs or 9p. */
  fileSharing: z.enum(['auto', 'virtiofs', '9p']).optional(),
});
export type VmSettings = z.infer<typeof VmSettingsSchema>;

const settingsFields = {
  theme: ThemeSchema,
  startAtLogin: z.boolean(),
  closeToTray: z.boolean(),
  /** Start Berth's own engine when the app starts. */
  startEngineOnLaunch: z.boolean(),
  notifications: z.boolean(),
  activeEngineId: z.string().nullable(),
  endpoints: z.array(CustomEndpointSchema),
  /** Remembered sort and filters per table ("containers", "images", ...). */
  views: z.record(z.string().max(64), TableViewSchema),
  vm: VmSettingsSchema.optional(),
};
export const WindowBoundsSchema = z.object({ width: z.number().int().min(400), height: z.number().int().min(300), x: z.number().int().optional(), y: z.number().int().optional(), maximized: z.boolean().optional() });
export type WindowBounds = z.infer<typeof WindowBoundsSchema>;

export const SettingsSchema = z.object({ ...settingsFields, window: WindowBoundsSchema.optional() });
export type Settings = z.infer<typeof SettingsSchema>;
export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  startAtLogin: false,
  closeToTray: true,
  startEngineOnLaunch: true,
  notifications: true,
  activeEngineId: null,
  endpoints: [],
  views: {},
};
/** What the renderer may change (no defaults here: absent keys stay as they are). */
export const SettingsPatchSchema = z.strictObject(settingsFields).partial();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

export const EngineConfigSchema = z.object({
  registryMirrors: z.array(z.url({ protocol: /^https?$/, error: 'a mirror must be an http:// or https:// URL' })),
  insecureRegistries: z.array(z.string().min(1).regex(/^[^\s/]+(\/\d+)?$/, 'an insecure registry is host[:port] or a CIDR')),
});
export type EngineConfig = z.infer<typeof EngineConfigSchema>;

export const StatsSampleSchema = z.object({
  time: z.number(),
  cpuPercent: z.number(),
  onlineCpus: z.number(),
  memUsage: z.number(),
  memLimit: z.number(),
  netRx: z.number(),
  netTx: z.number(),
  blkRead: z.number(),
  blkWrite: z.number(),
  pids: z.number(),
});
export type StatsSample = z.infer<typeof StatsSampleSchema>;

export const FileEntrySchema = z.object({
  name: z.string(),
  type: z.enum(['file', 'dir', 'symlink', 'other']),
  size: z.number(),
  mode: z.number(),
  mtime: z.number(),
  linkTarget: z.string().optional(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const PullProgressSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: z.string() }),
  z.object({ type: z.literal('layer'), id: z.string(), status: z.string(), current: z.number().optional(), total: z.number().optional() }),
  z.object({ type: z.literal('error'), message: z.string() }),
  z.object({ type: z.literal('done'), digest: z.string().optional() }),
]);
export type PullProgress = z.infer<typeof PullProgressSchema>;

export const SearchResultSchema = z.object({ name: z.string(), description: z.string(), stars: z.number(), official: z.boolean(), automated: z.boolean() });
export type SearchResult = z.infer<typeof SearchResultSchema>;

/** A registry the user signed in to, as the docker CLI records it (never the secret). */
export const RegistryAccountSchema = z.object({
  /** As written in config.json ("127.0.0.1:5000", "https://index.docker.io/v1/"). */
  server: z.string(),
  /** What the user sees ("Docker Hub" for index.docker.io). */
  display: z.string(),
  username: z.string().optional(),
  /** The credential helper that holds the secret (docker-credential-<name>), if not config.json itself. */
  helper: z.string().optional(),
});
export type RegistryAccount = z.infer<typeof RegistryAccountSchema>;

export const PruneKindSchema = z.enum(['containers', 'images', 'volumes', 'networks', 'build-cache']);
export type PruneKind = z.infer<typeof PruneKindSchema>;

const dfKind = z.object({ count: z.number(), active: z.number(), size: z.number(), reclaimable: z.number() });
/** `docker system df`: totals per kind, with the items behind them. */
export const DiskUsageSchema = z.object({
  images: dfKind,
  containers: dfKind,
  volumes: dfKind,
  buildCache: dfKind,
  /** The largest items of each kind (for the page's lists). */
  imageItems: z.array(z.object({ id: z.string(), name: z.string(), size: z.number(), shared: z.number(), containers: z.number() })),
  containerItems: z.array(z.object({ id: z.string(), name: z.string(), size: z.number(), state: z.string() })),
  volumeItems: z.array(z.object({ name: z.string(), size: z.number(), refCount: z.number() })),
});
export type DiskUsage = z.infer<typeof DiskUsageSchema>;
/** A build from the Builds page: a folder on the backend's host, or one the page uploads (as tar chunks). */
export const BuildRequestSchema = z.object({
  source: z.discriminatedUnion('kind', [z.object({ kind: z.literal('path'), path: z.string().min(1).max(4096) }), z.object({ kind: z.literal('upload'), name: z.string().min(1).max(255) })]),
  /** The Dockerfile's path in the context ('' for Dockerfile). */
  dockerfile: z.string().max(4096).default(''),
  tag: z.string().max(255).default(''),
  buildArgs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'build arg names are letters, digits and "_"'), z.string().max(65_536)).default({}),
  target: z.string().max(255).default(''),
  noCache: z.boolean().default(false),
  pull: z.boolean().default(false),
});
export type BuildRequest = z.infer<typeof BuildRequestSchema>;

/** One build in the history of the Builds page. */
export const BuildRecordSchema = z.object({
  id: z.string(),
  engineId: z.string(),
  /** The folder (or upload) it was built from. */
  source: z.string(),
  tag: z.string(),
  target: z.string(),
  startedAt: z.number(),
  durationMs: z.number(),
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  imageId: z.string().optional(),
  steps: z.number(),
  cachedSteps: z.number(),
  error: z.string().optional(),
});
export type BuildRecord = z.infer<typeof BuildRecordSchema>;

export const BuildEventSchema = z.discriminatedUnion('type', [
  /** The engine's stream text, as the CLI prints it (ANSI colors included), for the log terminal. */
  z.object({ type: z.literal('output'), text: z.string() }),
  z.object({ type: z.literal('step'), index: z.number(), total: z.number(), instruction: z.string() }),
  z.object({ type: z.literal('step-done'), index: z.number(), cached: z.boolean(), durationMs: z.number() }),
  z.object({ type: z.literal('done'), record: BuildRecordSchema }),
]);
export type BuildEvent = z.infer<typeof BuildEventSchema>;

/** What the Run dialog sends: the docker run flags the form covers. */
export const RunSpecSchema = z.object({
  image: z.string().min(1),
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'names may contain letters, digits, "_", "." and "-"').optional(),
  ports: z.array(
    z.object({
      /** Empty or undefined: a random host port. */
      hostPort: z.number().int().min(1).max(65535).optional(),
      hostIp: z.string().optional(),
      containerPort: z.number().int().min(1).max(65535),
      protocol: z.enum(['tcp', 'udp']).default('tcp'),
    }),
  ),
  volumes: z.array(z.object({ source: z.string().min(1), target: z.string().regex(/^\//, 'the container path must be absolute'), readOnly: z.boolean().default(false) })),
  env: z.array(z.object({ key: z.string().regex(/^[^=\s]+$/, 'invalid variable name'), value: z.string() })),
  /** Command as argv; empty keeps the image's CMD. */
  cmd: z.array(z.string()),
  restart: z.enum(['no', 'always', 'unless-stopped', 'on-failure']).default('no'),
  interactive: z.boolean().default(false),
  autoRemove: z.boolean().default(false),
  /** --network: a network name, "host" or "none"; empty keeps the default bridge. */
  network: z.string().max(256).optional(),
  /** --memory, in bytes. */
  memory: z.number().int().min(6 * 1024 * 1024, 'the minimum memory limit is 6 MB').optional(),
  /** --cpus (fractional CPUs). */
  cpus: z.number().positive().max(1024).optional(),
});
export type RunSpec = z.input<typeof RunSpecSchema>;

export const HostCapabilitiesSchema = z.object({
  /** Running inside the Electron shell (native dialogs, tray, login items). */
  desktop: z.boolean(),
  pickFolder: z.boolean(),
  startAtLogin: z.boolean(),
  closeToTray: z.boolean(),
  platform: z.string(),
  version: z.string(),
  /**
   * Linux: whether Berth's engine is installed as the berth.service system unit. "not-installed"
   * means a desktop user cannot start it (berthd needs root) until it is (berth engine install).
   */
  engineService: z.enum(['installed', 'not-installed', 'unsupported']).optional(),
  /** The app can install the service itself (asking for root with pkexec's dialog). */
  canInstallService: z.boolean().optional(),
});
export type HostCapabilities = z.infer<typeof HostCapabilitiesSchema>;
