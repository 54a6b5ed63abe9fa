/**
 * Builders for the image archives the image specs feed to berthd: plain
 * layer tars, docker-archive (legacy <id>/layer.tar and Docker 25+ blobs
 * layout) and OCI image layouts, made in memory with tar-stream, plus raw
 * HTTP requests on the daemon socket for what the CLI hides.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import tar from 'tar-stream';

export type TarHeader = Partial<tar.Header> & { name: string };
export interface TarItem {
  header: TarHeader;
  body?: string | Buffer;
}

export async function tarBuffer(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const it of items) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      const mtime = new Date(1_700_000_000_000);
      if (it.body !== undefined) pack.entry({ mode: 0o644, mtime, ...it.header }, it.body, cb);
      else pack.entry({ mode: it.header.type === 'directory' ? 0o755 : 0o644, mtime, ...it.header }, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A layer with the given files (path → content). */
export function layerTar(files: Record<string, string>): Promise<Buffer> {
  return tarBuffer(Object.entries(files).map(([name, body]) => ({ header: { name }, body })));
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export const hex = (digest: string) => digest.replace(/^sha256:/, '');

export interface TestImage {
  /** Uncompressed layer tars, bottom first. */
  layers: Buffer[];
  /** Familiar repo:tag names. */
  tags: string[];
  cmd?: string[];
  labels?: Record<string, string>;
  /** history created_by per layer (default: one entry per layer). */
  createdBy?: string[];
  created?: string;
}

export function configFor(img: TestImage): Buffer {
  const created = img.created ?? '2024-01-02T03:04:05Z';
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  return Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      created,
      config: { Cmd: img.cmd ?? ['sh'], Labels: img.labels ?? null, Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: img.layers.map((l) => sha256(l)) },
      history: img.layers.map((_, i) => ({ created, created_by: img.createdBy?.[i] ?? `/bin/sh -c #(nop) layer ${i}` })),
    }),
  );
}

/** The image ID berthd will give this image (its config digest). */
export const imageIdOf = (img: TestImage) => sha256(configFor(img));

/** docker-archive: `legacy` is pre-25 Docker (<id>/layer.tar, <id>.json), `blobs` is 25+ (without index.json). */
export async function dockerArchive(images: TestImage[], layout: 'legacy' | 'blobs' = 'legacy', compress?: 'gzip'): Promise<Buffer> {
  const items: TarItem[] = [];
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const seen = new Set<string>();
  for (const img of images) {
    const config = configFor(img);
    const id = hex(sha256(config));
    const layers: string[] = [];
    for (const raw of img.layers) {
      const data = compress === 'gzip' ? zlib.gzipSync(raw) : raw;
      const name = layout === 'legacy' ? `${hex(sha256(raw))}/layer.tar` : `blobs/sha256/${hex(sha256(data))}`;
      if (!seen.has(name)) {
        seen.add(name);
        if (layout === 'legacy') items.push({ header: { name: `${hex(sha256(raw))}/`, type: 'directory' } }, { header: { name: `${hex(sha256(raw))}/VERSION` }, body: '1.0' });
        items.push({ header: { name }, body: data });
      }
      layers.push(name);
    }
    const configName = layout === 'legacy' ? `${id}.json` : `blobs/sha256/${id}`;
    if (!seen.has(configName)) {
      seen.add(configName);
      items.push({ header: { name: configName }, body: config });
    }
    manifest.push({ Config: configName, RepoTags: img.tags.length > 0 ? img.tags : null, Layers: layers });
    for (const t of img.tags) {
      const i = t.lastIndexOf(':');
      (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = hex(sha256(img.layers[img.layers.length - 1]!));
    }
  }
  items.push({ header: { name: 'manifest.json' }, body: JSON.stringify(manifest) });
  items.push({ header: { name: 'repositories' }, body: JSON.stringify(repositories) });
  return tarBuffer(items);
}

/** An OCI image layout (no manifest.json), layers compressed as asked, names in index.json annotations. */
export async function ociLayout(images: TestImage[], compression: 'none' | 'gzip' | 'zstd' = 'gzip', opts: { nestedIndex?: boolean } = {}): Promise<Buffer> {
  const blobs = new Map<string, Buffer>();
  const add = (data: Buffer) => {
    const d = sha256(data);
    blobs.set(d, data);
    return d;
  };
  const manifests: Array<Record<string, unknown>> = [];
  const compressFn = (b: Buffer) => (compression === 'gzip' ? zlib.gzipSync(b) : compression === 'zstd' ? execFileSync('zstd', ['-q', '-c'], { input: b, maxBuffer: 256 * 1024 * 1024 }) : b);
  const layerType = { none: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' }[compression];
  for (const img of images) {
    const config = configFor(img);
    const layers = img.layers.map((l) => {
      const data = compressFn(l);
      return { mediaType: layerType, digest: add(data), size: data.length };
    });
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: add(config), size: config.length }, layers }),
    );
    let desc: Record<string, unknown> = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: add(manifest), size: manifest.length };
    if (opts.nestedIndex) {
      const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
      const other = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('nope'), size: 4, platform: { architecture: 's390x', os: 'linux' } };
      const attestation = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('att'), size: 3, platform: { architecture: 'unknown', os: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } };
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [other, { ...desc, platform: { architecture: arch, os: 'linux' } }, attestation] }));
      desc = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: add(index), size: index.length };
    }
    if (img.tags.length === 0) manifests.push(desc);
    for (const t of img.tags) {
      const full = t.includes('/') ? (t.split('/')[0]!.includes('.') || t.split('/')[0]!.includes(':') ? t : `docker.io/${t}`) : `docker.io/library/${t}`;
      manifests.push({ ...desc, annotations: { 'io.containerd.image.name': full, 'org.opencontainers.image.ref.name': t.slice(t.lastIndexOf(':') + 1) } });
    }
  }
  const items: TarItem[] = [
    { header: { name: 'oci-layout' }, body: '{"imageLayoutVersion": "1.0.0"}' },
    { header: { name: 'index.json' }, body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }) },
    { header: { name: 'blobs/', type: 'directory' } },
    { header: { name: 'blobs/sha256/', type: 'directory' } },
  ];
  for (const [d, data] of blobs) items.push({ header: { name: `blobs/sha256/${hex(d)}` }, body: data });
  return tarBuffer(items);
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request on the daemon's unix socket. */
export function rawRequest(socket: string, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Lists every path under dir (relative), for before/after comparisons. */
export function listTree(dir: string): string[] {
  try {
    return execFileSync('find', [dir, '-mindepth', '1'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((p) => p.slice(dir.length + 1))
      .sort();
  } catch {
    return [];
  }
}

/** Reads a `docker save` stream and returns the entry names of one layer (by DiffID), in archive order. */
export async function entriesOfLayer(saveStream: NodeJS.ReadableStream, diffID: string): Promise<string[]> {
  const want = `blobs/sha256/${hex(diffID)}`;
  const ex = tar.extract();
  saveStream.pipe(ex as unknown as NodeJS.WritableStream);
  let names: string[] | undefined;
  for await (const entry of ex) {
    if (entry.header.name === want) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const inner = tar.extract();
      const out: string[] = [];
      const feeding = (async () => {
        inner.end(Buffer.concat(chunks));
      })();
      for await (const e of inner) {
        out.push(e.header.name);
        e.resume();
      }
      await feeding;
      names = out;
    } else entry.resume();
  }
  if (!names) throw new Error(`layer ${diffID} not in the archive`);
  return names;
}
