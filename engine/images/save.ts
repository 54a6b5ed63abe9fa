/**
 * `docker save`: what Docker 25+ writes — an OCI image layout (oci-layout,
 * index.json naming each tagged manifest, blobs/sha256/...) that also carries
 * the legacy manifest.json and repositories files, so both OCI tools and older
 * `docker load` read it. Layers are written as uncompressed tars whose digest
 * is their DiffID. The archive is streamed; names are resolved before the
 * first byte so a bad name is a normal HTTP error.
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import tar from 'tar-stream';
import { pipePack } from '../system/pack-output.js';
import { InvalidParameterError, NotFoundError } from '../errdefs.js';
import type { ImageStore, Image } from './store.js';
import { sha256Digest } from './blobs.js';
import { MediaTypes, type Descriptor, type Index, type Manifest } from './oci.js';
import { isIdPrefix, parseReference, type Reference } from './reference.js';
import { openLayerTar } from './layer-export.js';

export interface SaveEntry {
  image: Image;
  /** Tagged references to record for this image (digest references are not). */
  tags: Reference[];
}

/** moby's save name rules: an ID or ID prefix, a repository (all its tags), or one tag/digest. */
export function resolveSaveNames(store: ImageStore, names: readonly string[]): SaveEntry[] {
  if (names.length === 0) throw new InvalidParameterError('no image names given to save');
  const byId = new Map<string, SaveEntry>();
  const add = (id: string, ref?: Reference) => {
    let e = byId.get(id);
    if (!e) {
      const image = store.get(id);
      if (!image) throw new NotFoundError(`No such image: ${id}`);
      e = { image, tags: [] };
      byId.set(id, e);
    }
    if (ref && ref.digest === undefined) {
      const tagged = ref.tagged();
      if (!e.tags.some((t) => t.toString() === tagged.toString())) e.tags.push(tagged);
    }
  };
  const byIdOnly = (name: string) => {
    const img = store.find(name);
    if (!img || !isIdPrefix(name)) throw new NotFoundError(`No such image: ${name}`);
    add(img.id);
  };
  for (const name of names) {
    if (/^[a-f0-9]{64}$/.test(name)) {
      add('sha256:' + name);
      continue;
    }
    let ref: Reference;
    try {
      ref = parseReference(name);
    } catch (err) {
      throw new InvalidParameterError((err as Error).message);
    }
    if (ref.familiarName === 'sha256') {
      byIdOnly(name);
      continue;
    }
    if (ref.tag === undefined && ref.digest === undefined) {
      const assocs = store.referencesByName(ref.name);
      for (const a of assocs) add(a.id, a.ref);
      if (assocs.length === 0) byIdOnly(name);
      continue;
    }
    const id = store.resolveReference(ref);
    if (!id) throw new NotFoundError(`No such image: ${ref.familiarString()}`);
    add(id, ref);
  }
  return [...byId.values()];
}

interface ManifestItem {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  Parent?: string;
}

type TarHeader = Partial<tar.Header> & { name: string };

const blobPath = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
const EPOCH = new Date(0);

function writeEntry(pack: tar.Pack, header: TarHeader, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pack.entry(header, body, cb);
    else pack.entry(header, cb);
  });
}

function writeFileEntry(pack: tar.Pack, header: TarHeader, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const src = fs.createReadStream(file);
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    src.on('error', (err) => {
      sink.destroy(err);
      reject(err);
    });
    sink.on('close', () => src.destroy());
    // A listener, so a pack torn down mid-entry (client gone) rejects here instead of throwing from pipe.
    sink.on('error', reject);
    src.pipe(sink);
  });
}

/**
 * Writes the archive for entries to out. Resolves when it is complete;
 * rejects (leaving out to the caller to tear down) when a layer cannot be read
 * or the client goes away.
 */
export async function writeSaveArchive(store: ImageStore, entries: SaveEntry[], out: Writable): Promise<void> {
  const pack = tar.pack();
  const piping = pipePack(pack, out);
  const release = store.holdLayers(entries.map((e) => e.image.topLayer));
  try {
    await writeEntry(pack, { name: 'blobs/', type: 'directory', mode: 0o755, mtime: EPOCH });
    await writeEntry(pack, { name: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime: EPOCH });
    const written = new Map<string, Descriptor>();
    const manifestJson: ManifestItem[] = [];
    const indexDescs: Descriptor[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const saved = new Set(entries.map((e) => e.image.id));

    for (const { image, tags } of entries) {
      const created = image.config.created ? new Date(image.config.created) : EPOCH;
      const mtime = Number.isNaN(created.getTime()) ? EPOCH : created;
      const layers: Descriptor[] = [];
      for (const diffID of image.config.rootfs.diff_ids) {
        let desc = written.get(diffID);
        if (!desc) {
          const lt = await openLayerTar(store, diffID);
          try {
            await writeFileEntry(pack, { name: blobPath(diffID), size: lt.size, mode: 0o644, mtime }, lt.file);
          } finally {
            await lt.release();
          }
          desc = { mediaType: MediaTypes.ociLayer, digest: diffID, size: lt.size };
          written.set(diffID, desc);
        }
        layers.push(desc);
      }
      if (!written.has(image.id)) {
        await writeEntry(pack, { name: blobPath(image.id), mode: 0o644, mtime }, image.rawConfig);
        written.set(image.id, { mediaType: MediaTypes.ociConfig, digest: image.id, size: image.rawConfig.length });
      }
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: image.id, size: image.rawConfig.length },
        layers,
      };
      const raw = Buffer.from(JSON.stringify(manifest));
      const mdigest = sha256Digest(raw);
      if (!written.has(mdigest)) {
        await writeEntry(pack, { name: blobPath(mdigest), mode: 0o644, mtime: EPOCH }, raw);
        written.set(mdigest, { mediaType: MediaTypes.ociManifest, digest: mdigest, size: raw.length });
      }
      const untagged: Descriptor = { mediaType: MediaTypes.ociManifest, digest: mdigest, size: raw.length };
      if (tags.length === 0) indexDescs.push(untagged);
      for (const t of tags) {
        indexDescs.push({ ...untagged, annotations: { 'io.containerd.image.name': t.toString(), 'org.opencontainers.image.ref.name': t.tag! } });
        const top = image.config.rootfs.diff_ids[image.config.rootfs.diff_ids.length - 1];
        (repositories[t.familiarName] ??= {})[t.tag!] = top ? top.slice('sha256:'.length) : image.id.slice('sha256:'.length);
      }
      const item: ManifestItem = {
        Config: blobPath(image.id),
        RepoTags: tags.length > 0 ? tags.map((t) => t.familiarString()) : null,
        Layers: image.config.rootfs.diff_ids.map(blobPath),
      };
      // The local parent link survives only when the parent travels too.
      const parent = image.record.parent;
      if (parent && saved.has(parent)) item.Parent = parent;
      manifestJson.push(item);
    }

    const index: Index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: indexDescs };
    await writeEntry(pack, { name: 'index.json', mode: 0o644, mtime: EPOCH }, Buffer.from(JSON.stringify(index)));
    await writeEntry(pack, { name: 'manifest.json', mode: 0o644, mtime: EPOCH }, Buffer.from(JSON.stringify(manifestJson) + '\n'));
    await writeEntry(pack, { name: 'oci-layout', mode: 0o644, mtime: EPOCH }, Buffer.from('{"imageLayoutVersion": "1.0.0"}'));
    if (Object.keys(repositories).length > 0) {
      await writeEntry(pack, { name: 'repositories', mode: 0o644, mtime: EPOCH }, Buffer.from(JSON.stringify(repositories) + '\n'));
    }
    pack.finalize();
    await piping;
  } catch (err) {
    pack.destroy(err as Error);
    throw err;
  } finally {
    release();
  }
}
