/**
 * `docker load`: reads a docker-archive (manifest.json with Config, RepoTags
 * and Layers paths — both the legacy <id>/layer.tar layout and Docker 25+'s
 * blobs/sha256 one) or a plain OCI image layout (index.json → manifests or
 * nested indexes, layers plain, gzip or zstd). The upload is staged first
 * (archive-staging.ts) and every digest is checked before anything is stored:
 * blob files against their names and descriptors, the config against the
 * image ID, each layer's content against config.rootfs.diff_ids while it is
 * unpacked. Images are created only when all their layers are registered,
 * then tagged, so an interruption never leaves half an image; layers
 * registered by a load that fails are removed again.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InvalidParameterError } from '../errdefs.js';
import type { ImageStore, Image } from './store.js';
import { sha256Digest } from './blobs.js';
import { chainIDOf, chainIDs } from './layers.js';
import { decompress, detectCompression } from './compression.js';
import { StagedArchive, type StagedFile } from './archive-staging.js';
import { hostPlatform, MediaTypes, parseImageConfig, type Descriptor, type HistoryEntry, type ImageConfig, type Index, type Manifest } from './oci.js';
import { parseReference, type Reference } from './reference.js';

/** What the load reports, in Docker's JSON-message shapes. */
export interface LoadOutput {
  /** A line of the `stream` kind ("Loaded image: foo:latest\n"). */
  stream(text: string): void;
  /** Progress for a layer (only when not quiet). */
  progress(id: string, status: string, current: number, total: number): void;
}

interface LoadLayer {
  diffID: string;
  blob: StagedFile;
  /** Where the blob was found, for messages. */
  where: string;
}

interface LoadItem {
  id: string;
  rawConfig: Buffer;
  config: ImageConfig;
  layers: LoadLayer[];
  tags: Reference[];
  /** Parent image ID recorded by docker save (commit/build chains). */
  parent?: string;
}

export interface LoadResult {
  images: Image[];
}

const bad = (msg: string) => new InvalidParameterError(msg);

function parseJson(raw: Buffer, what: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw bad(`invalid archive: failed to decode ${what}: ${(err as Error).message}`);
  }
}

/** The digest a path claims (blobs/sha256/<hex>, or <hex>.json for legacy configs). */
function claimedDigest(p: string): string | undefined {
  const clean = p.split('/').filter((x) => x !== '' && x !== '.').join('/');
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(clean) ?? /^([a-f0-9]{64})\.json$/.exec(clean);
  return m ? `sha256:${m[1]}` : undefined;
}

function checkConfig(raw: Buffer, where: string): ImageConfig {
  let config: ImageConfig;
  try {
    config = parseImageConfig(raw);
  } catch (err) {
    throw bad(`invalid archive: ${where}: ${(err as Error).message}`);
  }
  if (config.os !== 'linux') throw bad(`cannot load ${config.os} image on linux`);
  return config;
}

function parseTag(s: unknown): Reference {
  if (typeof s !== 'string') throw bad(`invalid tag ${JSON.stringify(s)}`);
  const ref = parseReference(s);
  if (ref.tag === undefined || ref.digest !== undefined) throw bad(`invalid tag ${JSON.stringify(s)}`);
  return ref;
}

// ---- docker-archive (manifest.json) --------------------------------------

async function readDockerArchive(a: StagedArchive): Promise<LoadItem[]> {
  const manifest = parseJson(await a.read('manifest.json', 'manifest'), 'manifest.json');
  if (manifest === null) throw bad('invalid manifest, manifest cannot be null (but can be [])');
  if (!Array.isArray(manifest)) throw bad('invalid archive: failed to decode manifest.json: not a list of images');
  const items: LoadItem[] = [];
  for (const m of manifest as unknown[]) {
    if (!m || typeof m !== 'object') throw bad('invalid archive: manifest.json entry is not an object');
    const e = m as { Config?: unknown; RepoTags?: unknown; Layers?: unknown; Parent?: unknown };
    if (typeof e.Config !== 'string' || e.Config === '') throw bad('invalid archive: manifest.json entry has no Config');
    if (e.Layers !== undefined && e.Layers !== null && !(Array.isArray(e.Layers) && e.Layers.every((l) => typeof l === 'string'))) {
      throw bad('invalid archive: manifest.json Layers must be a list of paths');
    }
    if (e.RepoTags !== undefined && e.RepoTags !== null && !Array.isArray(e.RepoTags)) throw bad('invalid archive: manifest.json RepoTags must be a list');
    const rawConfig = await a.read(e.Config, 'image config');
    const id = sha256Digest(rawConfig);
    const claimed = claimedDigest(e.Config);
    if (claimed && claimed !== id) throw bad(`invalid archive: image config ${JSON.stringify(e.Config)} does not match its digest (content is ${id})`);
    const config = checkConfig(rawConfig, `image config ${JSON.stringify(e.Config)}`);
    const layerPaths = (e.Layers ?? []) as string[];
    if (layerPaths.length !== config.rootfs.diff_ids.length) {
      throw bad(`invalid manifest, layers length mismatch: expected ${layerPaths.length}, got ${config.rootfs.diff_ids.length}`);
    }
    const layers = layerPaths.map((p, i): LoadLayer => {
      const blob = a.file(p);
      if (!blob) throw bad(`invalid archive: layer ${JSON.stringify(p)} is missing`);
      const want = claimedDigest(p);
      if (want && want !== blob.digest) throw bad(`invalid archive: layer ${JSON.stringify(p)} does not match its digest (content is ${blob.digest})`);
      return { diffID: config.rootfs.diff_ids[i]!, blob, where: p };
    });
    const tags = ((e.RepoTags ?? []) as unknown[]).map(parseTag);
    const item: LoadItem = { id, rawConfig, config, layers, tags };
    if (typeof e.Parent === 'string' && /^sha256:[a-f0-9]{64}$/.test(e.Parent)) item.parent = e.Parent;
    items.push(item);
  }
  return items;
}

// ---- OCI image layout (index.json) ---------------------------------------

const indexTypes = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const manifestTypes = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest]);

function checkDescriptor(d: unknown, where: string): Descriptor {
  const desc = d as Partial<Descriptor> | null;
  if (!desc || typeof desc !== 'object') throw bad(`invalid archive: ${where}: descriptor is not an object`);
  if (typeof desc.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(desc.digest)) throw bad(`invalid archive: ${where}: unsupported or invalid digest ${JSON.stringify(desc.digest)}`);
  if (typeof desc.size !== 'number' || !Number.isSafeInteger(desc.size) || desc.size < 0) throw bad(`invalid archive: ${where}: invalid size`);
  return desc as Descriptor;
}

/** The blob a descriptor names, checked against its digest and size. */
function ociBlob(a: StagedArchive, desc: Descriptor, what: string): StagedFile {
  const p = `blobs/sha256/${desc.digest.slice(7)}`;
  const blob = a.file(p);
  if (!blob) throw bad(`invalid archive: ${what} ${desc.digest} is missing (${p})`);
  if (blob.digest !== desc.digest) throw bad(`invalid archive: ${what} ${p} does not match its digest (content is ${blob.digest})`);
  if (blob.size !== desc.size) throw bad(`invalid archive: ${what} ${desc.digest} has size ${blob.size}, its descriptor says ${desc.size}`);
  return blob;
}

async function readBlobJson(a: StagedArchive, desc: Descriptor, what: string): Promise<Record<string, unknown>> {
  const blob = ociBlob(a, desc, what);
  if (blob.size > 4 * 1024 * 1024) throw bad(`invalid archive: ${what} ${desc.digest} is too large (${blob.size} bytes)`);
  const raw = await fsp.readFile(blob.file);
  const json = parseJson(raw, `${what} ${desc.digest}`);
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad(`invalid archive: ${what} ${desc.digest} is not a JSON object`);
  return json as Record<string, unknown>;
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown');
}

/** Picks this machine's manifest from an index (skipping attestations), like a pull does. */
function pickPlatform(manifests: Descriptor[]): Descriptor | undefined {
  const host = hostPlatform();
  const usable = manifests.filter((m) => !isAttestation(m));
  const exact = usable.find((m) => m.platform?.os === host.os && m.platform.architecture === host.architecture && (!host.variant || !m.platform.variant || m.platform.variant === host.variant));
  if (exact) return exact;
  // An index without platforms (some tools write single-image indexes).
  return usable.length === 1 && !usable[0]!.platform ? usable[0] : undefined;
}

function nameFromAnnotations(ann: Record<string, string> | undefined): Reference | undefined {
  if (!ann) return undefined;
  const candidates = [ann['io.containerd.image.name'], ann['org.opencontainers.image.ref.name']];
  for (const c of candidates) {
    // A bare tag ("latest") names no repository; only full references are usable.
    if (!c || !/[/:]/.test(c)) continue;
    try {
      const ref = parseReference(c);
      if (ref.tag !== undefined && ref.digest === undefined) return ref;
    } catch {
      /* not a reference */
    }
  }
  return undefined;
}

async function readOciLayout(a: StagedArchive): Promise<LoadItem[]> {
  const index = parseJson(await a.read('index.json', 'index'), 'index.json') as Partial<Index> | null;
  if (!index || typeof index !== 'object' || !Array.isArray(index.manifests)) throw bad('invalid archive: index.json has no manifests list');
  const byId = new Map<string, LoadItem>();

  const visit = async (d: Descriptor, name: Reference | undefined, depth: number): Promise<void> => {
    if (depth > 4) throw bad('invalid archive: indexes nested too deeply');
    const json = await readBlobJson(a, d, 'manifest');
    const mediaType = (typeof json.mediaType === 'string' ? json.mediaType : undefined) ?? d.mediaType;
    if (indexTypes.has(mediaType) || (Array.isArray(json.manifests) && !json.config)) {
      const list = (json.manifests as unknown[]).map((m, i) => checkDescriptor(m, `index ${d.digest} entry ${i}`));
      const chosen = pickPlatform(list);
      if (!chosen) {
        const h = hostPlatform();
        throw bad(`no matching manifest for ${h.os}/${h.architecture}${h.variant ? '/' + h.variant : ''} in the archive's index ${d.digest}`);
      }
      await visit(chosen, name ?? nameFromAnnotations(chosen.annotations), depth + 1);
      return;
    }
    if (!manifestTypes.has(mediaType) && !json.config) throw bad(`invalid archive: ${d.digest} has unsupported media type ${JSON.stringify(mediaType)}`);
    const m = json as unknown as Partial<Manifest>;
    const configDesc = checkDescriptor(m.config, `manifest ${d.digest} config`);
    const configBlob = ociBlob(a, configDesc, 'image config');
    if (configBlob.size > 8 * 1024 * 1024) throw bad(`invalid archive: image config ${configDesc.digest} is too large`);
    const rawConfig = await fsp.readFile(configBlob.file);
    const config = checkConfig(rawConfig, `image config ${configDesc.digest}`);
    const layerDescs = (Array.isArray(m.layers) ? m.layers : []).map((l, i) => checkDescriptor(l, `manifest ${d.digest} layer ${i}`));
    if (layerDescs.length !== config.rootfs.diff_ids.length) {
      throw bad(`invalid manifest, layers length mismatch: expected ${layerDescs.length}, got ${config.rootfs.diff_ids.length}`);
    }
    const layers = layerDescs.map((l, i): LoadLayer => ({ diffID: config.rootfs.diff_ids[i]!, blob: ociBlob(a, l, 'layer'), where: `blobs/sha256/${l.digest.slice(7)}` }));
    let item = byId.get(configDesc.digest);
    if (!item) {
      item = { id: configDesc.digest, rawConfig, config, layers, tags: [] };
      byId.set(item.id, item);
    }
    if (name && !item.tags.some((t) => t.toString() === name.toString())) item.tags.push(name);
  };

  for (const [i, d] of index.manifests.entries()) {
    const desc = checkDescriptor(d, `index.json entry ${i}`);
    await visit(desc, nameFromAnnotations(desc.annotations), 0);
  }
  return [...byId.values()];
}

// ---- storing --------------------------------------------------------------

/** moby's checkValidParent: the child's history is the parent's plus one entry. */
function validParent(child: ImageConfig, parent: ImageConfig): boolean {
  const ch = child.history ?? [];
  const ph = parent.history ?? [];
  if (ch.length === 0 && ph.length === 0) return true;
  if (ch.length - ph.length !== 1) return false;
  const norm = (h: HistoryEntry) => JSON.stringify({ ...h, created: h.created ? Date.parse(h.created) : undefined });
  return ph.every((h, i) => norm(h) === norm(ch[i]!));
}

function mediaTypeOf(head: Buffer): string {
  switch (detectCompression(head)) {
    case 'gzip':
      return MediaTypes.ociLayerGzip;
    case 'zstd':
      return MediaTypes.ociLayerZstd;
    default:
      return MediaTypes.ociLayer;
  }
}

async function readHead(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Keeps the layer's archive as a blob (for save and push) unless one is stored already. */
async function keepLayerBlob(store: ImageStore, layer: LoadLayer): Promise<void> {
  const blobs = store.blobs;
  if (blobs.has(layer.diffID)) return;
  for (const d of await store.layerBlobs(layer.diffID)) if (blobs.has(d.digest)) return;
  const { blob } = layer;
  if (blobs.has(blob.digest)) {
    await store.addLayerBlob(layer.diffID, { mediaType: MediaTypes.ociLayer, digest: blob.digest, size: blob.size });
    return;
  }
  const mediaType = mediaTypeOf(await readHead(blob.file));
  await store.addLayerBlob(layer.diffID, { mediaType, digest: blob.digest, size: blob.size });
  await blobs.adoptHashed(blob.file, blob.digest);
  // Later references to the same staged file read it from the store.
  blob.file = blobs.path(blob.digest);
}

async function registerLayers(store: ImageStore, item: LoadItem, out: LoadOutput, registered: string[]): Promise<void> {
  let parent: string | null = null;
  for (const [i, layer] of item.layers.entries()) {
    const chain = chainIDOf(parent, layer.diffID);
    if (!store.layers.has(chain)) {
      const short = layer.diffID.slice(7, 19);
      out.progress(short, 'Loading layer', 0, layer.blob.size);
      const { stream } = await decompress(fs.createReadStream(layer.blob.file));
      try {
        await store.layers.register(parent, stream, layer.diffID);
      } catch (err) {
        stream.destroy();
        // Hostile entries, DiffID mismatches and corrupt compressed data (zlib's Z_* codes) are the archive's fault.
        const zlibError = String((err as NodeJS.ErrnoException).code ?? '').startsWith('Z_');
        if (err instanceof InvalidParameterError || zlibError) throw bad(`invalid archive: layer ${i + 1} of image ${item.id} (${layer.where}): ${(err as Error).message}`);
        throw err;
      }
      registered.push(chain);
      out.progress(short, 'Loading layer', layer.blob.size, layer.blob.size);
    }
    await keepLayerBlob(store, layer);
    parent = chain;
  }
}

/**
 * Loads the images of an uncompressed-or-compressed archive stream. `stagingDir`
 * must be a fresh path on the blob store's filesystem (BlobStore.tempPath).
 */
export async function loadArchive(store: ImageStore, input: Readable, stagingDir: string, out: LoadOutput, onLoaded: (img: Image) => void): Promise<LoadResult> {
  const { stream } = await decompress(input);
  let staged: StagedArchive | undefined;
  const registered: string[] = [];
  const loaded: Image[] = [];
  try {
    staged = await StagedArchive.stage(stream, stagingDir);
    let items: LoadItem[];
    if (staged.has('manifest.json')) items = await readDockerArchive(staged);
    else if (staged.has('index.json')) items = await readOciLayout(staged);
    else throw bad('invalid archive: does not contain a manifest.json');

    const untagged: string[] = [];
    for (const item of items) {
      const release = store.holdLayers(chainIDs(item.config.rootfs.diff_ids));
      try {
        await registerLayers(store, item, out, registered);
        const image = await store.create(item.rawConfig);
        loaded.push(image);
        for (const ref of item.tags) {
          const prev = store.resolveReference(ref);
          if (prev && prev !== image.id) out.stream(`The image ${ref.familiarString()} already exists, renaming the old one with ID ${prev} to empty string\n`);
          await store.addReference(ref, image.id);
          out.stream(`Loaded image: ${ref.familiarString()}\n`);
        }
        if (item.tags.length === 0) untagged.push(image.id);
        onLoaded(image);
      } finally {
        release();
      }
    }
    for (const id of untagged) out.stream(`Loaded image ID: ${id}\n`);
    // Parent links only between images of this archive, and only when the histories agree.
    const ids = new Set(items.map((i) => i.id));
    for (const item of items) {
      if (!item.parent || item.parent === item.id || !ids.has(item.parent)) continue;
      const child = store.get(item.id);
      const parent = store.get(item.parent);
      if (child && parent && validParent(child.config, parent.config)) await store.setParent(child.id, parent.id);
    }
    return { images: loaded };
  } finally {
    await staged?.remove();
    await fsp.rm(stagingDir, { recursive: true, force: true });
    if (registered.length > 0) await store.discardLayers(registered);
  }
}
