/**
 * The one contract between the dashboard and the backend: every request
 * (method → params and result) and every stream (params, events, and the
 * input the client may send into it). Main, preload, the web bridge and the
 * renderer all derive their names and types from these two maps.
 */
import { z } from 'zod';
import {
  BuildEventSchema,
  BuildRecordSchema,
  BuildRequestSchema,
  EngineConfigSchema,
  EngineLogSourceSchema,
  EngineInfoSchema,
  EnginesSnapshotSchema,
  FileEntrySchema,
  HostCapabilitiesSchema,
  ModelEventSchema,
  PullProgressSchema,
  RunSpecSchema,
  SettingsPatchSchema,
  SettingsSchema,
  StatsSampleSchema,
  CustomEndpointSchema,
  DiskUsageSchema,
  PruneKindSchema,
  RegistryAccountSchema,
  SearchResultSchema,
} from './models.js';

const method = <P extends z.ZodType, R extends z.ZodType>(params: P, result: R) => ({ params, result });
const stream = <P extends z.ZodType, E extends z.ZodType, I extends z.ZodType = z.ZodNever>(params: P, event: E, input?: I) => ({
  params,
  event,
  input: (input ?? z.never()) as I,
});

const engineId = z.string().min(1).max(200);
const id = z.string().min(1).max(256);
const onEngine = <S extends z.ZodRawShape>(shape: S) => z.strictObject({ engineId, ...shape });
const none = z.strictObject({});
const ok = z.object({ ok: z.literal(true) });
const absPath = z.string().regex(/^\//, 'the path must be absolute').max(4096);
const fileName = z
  .string()
  .min(1)
  .max(255)
  .refine((n) => n !== '.' && n !== '..' && !n.includes('/') && !n.includes('\0'), 'a name cannot be "." or "..", or contain "/"');
/** Base64, at most a few MiB (messages are capped at 8 MiB). */
const base64 = z.string().max(6 * 1024 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
/** Where files are read or written: a container's filesystem or a volume's. */
export const FileTargetSchema = z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('container'), id }), z.strictObject({ kind: z.literal('volume'), name: id })]);
export type FileTarget = z.infer<typeof FileTargetSchema>;
/** Small text files open in the editor; larger ones are downloaded instead. */
export const MAX_EDIT_BYTES = 1024 * 1024;
/** Uploads go in chunks of this size, with at most UPLOAD_WINDOW_BYTES not yet acknowledged. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
export const UPLOAD_WINDOW_BYTES = 4 * 1024 * 1024;

/** Per-item outcome of a bulk action: one failure does not hide the others. */
export const BulkResultSchema = z.array(z.object({ id: z.string(), error: z.string().optional() }));
export type BulkResult = z.infer<typeof BulkResultSchema>;

export const ContainerActionSchema = z.enum(['start', 'stop', 'restart', 'pause', 'unpause', 'kill']);
export type ContainerAction = z.infer<typeof ContainerActionSchema>;

export const methods = {
  'host.capabilities': method(none, HostCapabilitiesSchema),
  'host.pickFolder': method(z.strictObject({ title: z.string().max(200).optional() }), z.object({ path: z.string().nullable() })),
  'host.openExternal': method(z.strictObject({ url: z.url({ protocol: /^https?$/ }) }), ok),
  /** Installs berth.service (pkexec asks for root); the desktop user is added to the berth group. */
  'host.installEngineService': method(none, z.object({ output: z.string(), needsRelogin: z.boolean() })),

  'settings.get': method(none, SettingsSchema),
  'settings.update': method(SettingsPatchSchema, SettingsSchema),

  'engines.list': method(none, EnginesSnapshotSchema),
  'engines.setActive': method(z.strictObject({ engineId }), EnginesSnapshotSchema),
  'engines.start': method(z.strictObject({ engineId }), EngineInfoSchema),
  'engines.stop': method(z.strictObject({ engineId }), EngineInfoSchema),
  'engines.restart': method(z.strictObject({ engineId }), EngineInfoSchema),
  'engines.add': method(CustomEndpointSchema.omit({ id: true }).strict(), EngineInfoSchema),
  'engines.remove': method(z.strictObject({ engineId }), ok),
  /** `source`: the engine's own log (berthd's; inside the VM for the VM engine) or, for the VM, its serial console. */
  'engines.logs': method(z.strictObject({ engineId, tail: z.number().int().min(1).max(100_000).default(500), source: EngineLogSourceSchema.default('engine') }), z.object({ text: z.string(), file: z.string().optional() })),
  'engines.info': method(z.strictObject({ engineId }), z.object({ version: z.unknown(), info: z.unknown() })),
  'engines.resetData': method(z.strictObject({ engineId, confirm: z.literal('reset') }), ok),
  'engines.getConfig': method(z.strictObject({ engineId }), EngineConfigSchema.extend({ file: z.string() })),
  'engines.setConfig': method(z.strictObject({ engineId, config: EngineConfigSchema }), z.object({ file: z.string(), applied: z.enum(['reloaded', 'restart-required']) })),

  'containers.action': method(onEngine({ ids: z.array(id).min(1).max(5000), action: ContainerActionSchema }), BulkResultSchema),
  'containers.remove': method(onEngine({ ids: z.array(id).min(1).max(5000), force: z.boolean().default(false), volumes: z.boolean().default(false) }), BulkResultSchema),
  'containers.inspect': method(onEngine({ id }), z.record(z.string(), z.unknown())),
  'containers.rename': method(onEngine({ id, name: z.string().min(1).max(200) }), ok),
  'containers.top': method(onEngine({ id }), z.object({ Titles: z.array(z.string()), Processes: z.array(z.array(z.string())) })),
  'containers.run': method(onEngine({ spec: RunSpecSchema, start: z.boolean().default(true) }), z.object({ id: z.string(), warnings: z.array(z.string()) })),
  'containers.listFiles': method(onEngine({ id, path: z.string().regex(/^\//).max(4096) }), z.object({ path: z.string(), entries: z.array(FileEntrySchema), truncated: z.boolean() })),
  'containers.prune': method(onEngine({}), z.object({ deleted: z.array(z.string()), spaceReclaimed: z.number() })),
  /** A small file's content (for the editor), refused above MAX_EDIT_BYTES. */
  'files.read': method(onEngine({ target: FileTargetSchema, path: absPath }), z.object({ content: z.string(), size: z.number(), mode: z.number() })),
  /** Writes one file (creating or replacing it) through the archive API; content is base64. */
  'files.write': method(onEngine({ target: FileTargetSchema, path: absPath, content: base64, mode: z.number().int().min(0).max(0o7777).optional() }), ok),
  'files.mkdir': method(onEngine({ target: FileTargetSchema, dir: absPath, name: fileName }), ok),
  /** Rename and delete need a process in the container (the archive API has neither): the container must be running. */
  'files.rename': method(onEngine({ target: FileTargetSchema, path: absPath, name: fileName }), ok),
  'files.delete': method(onEngine({ target: FileTargetSchema, paths: z.array(absPath).min(1).max(1000) }), ok),

  /** Compose projects (containers labelled com.docker.compose.project). */
  'projects.action': method(onEngine({ project: z.string().min(1).max(256), action: z.enum(['start', 'stop', 'restart', 'pause', 'unpause', 'kill']) }), BulkResultSchema),
  'projects.remove': method(onEngine({ project: z.string().min(1).max(256), volumes: z.boolean().default(false) }), z.object({ containers: BulkResultSchema, networks: z.array(z.string()), volumes: z.array(z.string()) })),

  'images.inspect': method(onEngine({ id }), z.record(z.string(), z.unknown())),
  'images.history': method(onEngine({ id }), z.array(z.object({ id: z.string(), created: z.number(), createdBy: z.string(), tags: z.array(z.string()), size: z.number(), comment: z.string() }))),
  'images.tag': method(onEngine({ id, repo: z.string().min(1).max(255), tag: z.string().regex(/^[\w][\w.-]{0,127}$/, 'invalid tag format') }), ok),
  'images.remove': method(onEngine({ ref: id, force: z.boolean().default(false), noprune: z.boolean().default(false) }), z.array(z.object({ untagged: z.string().optional(), deleted: z.string().optional() }))),
  'images.prune': method(onEngine({ all: z.boolean().default(false) }), z.object({ deleted: z.number(), spaceReclaimed: z.number() })),
  /** `docker search` through the engine, with the stored credentials for that registry. */
  'images.search': method(onEngine({ term: z.string().min(1).max(512), limit: z.number().int().min(1).max(100).default(25) }), z.array(SearchResultSchema)),

  /** Registry accounts, stored as the docker CLI stores them (config.json, credential helpers). */
  'registries.list': method(none, z.object({ accounts: z.array(RegistryAccountSchema), configFile: z.string(), credsStore: z.string().optional() })),
  'registries.login': method(
    z.strictObject({ engineId, server: z.string().min(1).max(512), username: z.string().min(1).max(512), password: z.string().min(1).max(16_384) }),
    z.object({ server: z.string(), status: z.string(), storedIn: z.string() }),
  ),
  'registries.logout': method(z.strictObject({ server: z.string().min(1).max(512) }), z.object({ server: z.string(), removed: z.boolean() })),

  /** `docker system df`, and what each prune would delete before it does. */
  'system.df': method(onEngine({}), DiskUsageSchema),
  'system.prunePreview': method(onEngine({ kind: PruneKindSchema, all: z.boolean().default(false) }), z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), size: z.number() })), size: z.number() })),
  'system.prune': method(onEngine({ kind: PruneKindSchema, all: z.boolean().default(false) }), z.object({ deleted: z.array(z.string()), spaceReclaimed: z.number() })),
  /** Builds started from the app, newest first (all engines). */
  'builds.list': method(none, z.array(BuildRecordSchema)),

  'volumes.create': method(onEngine({ name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'names may contain letters, digits, "_", "." and "-"').optional(), driver: z.string().default('local'), labels: z.record(z.string(), z.string()).default({}) }), z.object({ name: z.string() })),
  'volumes.remove': method(onEngine({ names: z.array(id).min(1).max(5000), force: z.boolean().default(false) }), BulkResultSchema),
  'volumes.prune': method(onEngine({}), z.object({ deleted: z.array(z.string()), spaceReclaimed: z.number() })),
  'volumes.usage': method(onEngine({}), z.record(z.string(), z.object({ size: z.number(), refCount: z.number() }))),
  'volumes.listFiles': method(onEngine({ name: id, path: z.string().regex(/^\//).max(4096) }), z.object({ path: z.string(), entries: z.array(FileEntrySchema), truncated: z.boolean() })),
  /** A new volume with a copy of another's content (through the archive API; no container is started). */
  'volumes.clone': method(onEngine({ name: id, target: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'names may contain letters, digits, "_", "." and "-"') }), z.object({ name: z.string() })),

  'networks.create': method(
    onEngine({ name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'names may contain letters, digits, "_", "." and "-"'), driver: z.string().default('bridge'), internal: z.boolean().default(false), subnet: z.string().optional(), gateway: z.string().optional() }),
    z.object({ id: z.string() }),
  ),
  'networks.remove': method(onEngine({ ids: z.array(id).min(1).max(1000) }), BulkResultSchema),
  'networks.inspect': method(onEngine({ id }), z.record(z.string(), z.unknown())),
  'networks.prune': method(onEngine({}), z.object({ deleted: z.array(z.string()) })),
} as const;

const logTime = z.string().regex(/^\d{1,12}(\.\d{1,9})?$/, 'expected seconds.nanoseconds');

export const LogsParamsSchema = onEngine({
  id,
  /** Lines from the end; older lines are paged in with `until`. */
  tail: z.union([z.number().int().min(0).max(1_000_000), z.literal('all')]),
  /**
   * "seconds.nanoseconds": lines up to this time, for "load older". Engines may stamp many lines
   * with one time, so the client says how many lines at exactly `until` it already has (`haveAtUntil`).
   */
  until: logTime.optional(),
  haveAtUntil: z.number().int().min(0).max(1_000_000).default(0),
  /** "seconds.nanoseconds": only lines at or after this time. */
  since: logTime.optional(),
  timestamps: z.boolean().default(false),
  follow: z.boolean().default(true),
});

/** Commands from the desktop shell (native menu, tray) for the dashboard to carry out. */
export const HostCommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('navigate'), page: z.enum(['containers', 'images', 'builds', 'volumes', 'networks', 'disk', 'engines', 'troubleshoot', 'settings']) }),
  z.object({ type: z.literal('palette') }),
  z.object({ type: z.literal('pull') }),
  z.object({ type: z.literal('resync') }),
  z.object({ type: z.literal('open-container'), id: z.string().min(1).max(256) }),
]);
export type HostCommand = z.infer<typeof HostCommandSchema>;

export const streams = {
  'host.commands': stream(none, HostCommandSchema),
  /** The engines and which one is active: a snapshot now and on every change. */
  'engines.watch': stream(none, EnginesSnapshotSchema),
  'settings.watch': stream(none, SettingsSchema),
  /** One engine's containers, images, volumes and networks: a snapshot, then deltas from its /events stream. */
  'model.watch': stream(onEngine({}), ModelEventSchema),
  /** Log text. The client acknowledges the bytes it has written so the server can pause a fast producer. */
  'containers.logs': stream(
    LogsParamsSchema,
    z.discriminatedUnion('type', [
      z.object({ type: z.literal('data'), data: z.string(), bytes: z.number() }),
      /** Sent once the initial tail is delivered, so the view knows where "older" begins. */
      z.object({ type: z.literal('caught-up'), firstTime: logTime.optional(), firstCount: z.number().int().min(0).optional() }),
    ]),
    z.object({ ack: z.number().int().min(0) }),
  ),
  'containers.exec': stream(
    onEngine({ id, cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000), shell: z.array(z.string()).min(1).max(64).optional() }),
    z.discriminatedUnion('type', [
      z.object({ type: z.literal('started'), shell: z.string(), execId: z.string() }),
      z.object({ type: z.literal('data'), data: z.string() }),
      z.object({ type: z.literal('exit'), code: z.number().nullable() }),
    ]),
    z.discriminatedUnion('type', [
      z.object({ type: z.literal('stdin'), data: z.string().max(1_000_000) }),
      z.object({ type: z.literal('resize'), cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) }),
    ]),
  ),
  'containers.stats': stream(onEngine({ id }), StatsSampleSchema),
  /** CPU and memory of a set of running containers (the visible rows), as the engine streams them. */
  'containers.statsSummary': stream(
    onEngine({ ids: z.array(id).max(200) }),
    z.object({ id: z.string(), cpuPercent: z.number(), memUsage: z.number(), memLimit: z.number() }),
  ),
  /** A compose project's containers in one view, with a service column. */
  'projects.logs': stream(
    onEngine({ project: z.string().min(1).max(256), tail: z.number().int().min(0).max(100_000), timestamps: z.boolean().default(false), follow: z.boolean().default(true), color: z.boolean().default(true) }),
    z.discriminatedUnion('type', [z.object({ type: z.literal('data'), data: z.string(), bytes: z.number() }), z.object({ type: z.literal('caught-up') })]),
    z.object({ ack: z.number().int().min(0) }),
  ),
  /** A folder or file of a container or volume as a tar archive, in base64 chunks. */
  'files.archive': stream(
    onEngine({ target: FileTargetSchema, path: absPath }),
    z.discriminatedUnion('type', [
      z.object({ type: z.literal('stat'), name: z.string(), size: z.number(), mode: z.number() }),
      z.object({ type: z.literal('chunk'), data: z.string() }),
    ]),
  ),
  /**
   * Uploads into a folder: one file (name and size given) or a tar archive unpacked there ("import").
   * The client sends base64 chunks, each after the previous one was acknowledged, then "end".
   */
  'files.upload': stream(
    onEngine({ target: FileTargetSchema, dir: absPath, upload: z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('file'), name: fileName, size: z.number().int().min(0).max(64 * 1024 ** 3) }), z.strictObject({ kind: z.literal('tar') })]) }),
    z.discriminatedUnion('type', [z.object({ type: z.literal('ack'), bytes: z.number() }), z.object({ type: z.literal('done') })]),
    z.discriminatedUnion('type', [z.object({ type: z.literal('chunk'), data: base64 }), z.object({ type: z.literal('end') })]),
  ),
  'images.pull': stream(onEngine({ ref: z.string().min(1).max(512) }), PullProgressSchema),
  'images.push': stream(onEngine({ ref: z.string().min(1).max(512) }), PullProgressSchema),
  /** `docker build` from the app; for an upload, the client sends the context as base64 tar chunks, then `end`. */
  'images.build': stream(
    onEngine({ request: BuildRequestSchema }),
    BuildEventSchema,
    z.discriminatedUnion('type', [z.object({ type: z.literal('chunk'), data: z.string().max(2_000_000) }), z.object({ type: z.literal('end') })]),
  ),
} as const;

export type Methods = typeof methods;
export type Streams = typeof streams;
export type MethodName = keyof Methods;
export type StreamName = keyof Streams;
/** What a caller passes (defaults may be omitted). */
export type ParamsIn<M extends MethodName> = z.input<Methods[M]['params']>;
/** What a handler receives (defaults applied). */
export type ParamsOf<M extends MethodName> = z.output<Methods[M]['params']>;
export type ResultOf<M extends MethodName> = z.output<Methods[M]['result']>;
export type StreamParamsIn<S extends StreamName> = z.input<Streams[S]['params']>;
export type StreamParamsOf<S extends StreamName> = z.output<Streams[S]['params']>;
export type StreamEventOf<S extends StreamName> = z.output<Streams[S]['event']>;
export type StreamInputOf<S extends StreamName> = z.output<Streams[S]['input']>;

export const methodNames = Object.keys(methods) as MethodName[];
export const streamNames = Object.keys(streams) as StreamName[];

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}
export function isStreamName(name: string): name is StreamName {
  return Object.hasOwn(streams, name);
}
