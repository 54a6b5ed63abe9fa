/**
 * What the builder needs from the engine, and nothing more (moby's
 * daemon/builder Backend is the model): find, pull and tag images; the
 * locally built children of an image (the classic cache); a read-only view of
 * an image's files; new images from a layer the builder describes (COPY, ADD,
 * WORKDIR) or from a container's changes (RUN); containers that run one step.
 *
 * engine/builder/engine-backend.ts implements it over the engine's services;
 * engine/builder/testing/fake-backend.ts keeps everything in memory for the
 * unit tests of the dispatchers and the cache.
 */
import type { Readable } from 'node:stream';
import type { HealthConfig, ImageConfig, ImageRunConfig, Platform } from '../images/oci.js';
import type { AuthConfig } from '../registry/authconfig.js';

export interface BuildImage {
  /** sha256:<64 hex> */
  id: string;
  config: ImageConfig;
}

export type FileType = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

/** File metadata as the builder needs it (lstat, never following the last link). */
export interface FileStat {
  type: Exclude<FileType, 'link'>;
  /** Permission and setuid/setgid/sticky bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** security.capability and the like. */
  xattrs: Record<string, Buffer>;
  /** Identifies the inode, so hard links can be kept as links. */
  inode: string;
}

/** A read-only view of an image's root filesystem, addressed by path components. */
export interface ImageFS {
  lstat(parts: readonly string[]): FileStat | undefined;
  readlink(parts: readonly string[]): string;
  /** Names in a directory, any order. */
  readdir(parts: readonly string[]): string[];
  /** A regular file's content. */
  open(parts: readonly string[]): Readable;
  readFile(parts: readonly string[], limit?: number): Promise<Buffer>;
  /** Releases what the view holds (a mount); reads must be done by then. */
  close(): Promise<void>;
}

/** One entry of a layer the builder writes (COPY, ADD, WORKDIR). Parents come before children. */
export interface LayerEntry {
  /** Path inside the image, without a leading slash. */
  path: string;
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  /** Symlink target, or for hard links the path (in this layer or below) it links to. */
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
  /** A regular file's content. */
  content?: () => Readable;
}

/** Makes the image config once the layer's DiffID is known (null: the step changed no file). */
export type ConfigFactory = (diffID: string | null) => ImageConfig;

export interface BuildHostConfig {
  NetworkMode: string;
  ExtraHosts: string[];
  ShmSize: number;
  CgroupParent: string;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  CpusetMems: string;
  Memory: number;
  MemorySwap: number;
  Ulimits: Array<{ Name: string; Soft: number; Hard: number }>;
  /** Extra read-only bind mounts (a heredoc script at /dev/pipes). */
  Binds: string[];
}

export interface StepContainerConfig extends ImageRunConfig {
  Image: string;
  Healthcheck?: HealthConfig | null;
}

export interface RunIO {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export interface PullOptions {
  platform?: Platform;
  /** Credentials by registry (X-Registry-Config). */
  auth: Record<string, AuthConfig>;
  /** Docker's JSON progress lines (one object per call, without the line ending). */
  progress(line: string): void;
  signal: AbortSignal;
}

export interface BuildBackend {
  /** A local image by reference or ID, if any (and of this platform, when given). */
  findImage(refOrId: string, platform?: Platform): BuildImage | undefined;
  pullImage(ref: string, opts: PullOptions): Promise<BuildImage>;
  /** Images built locally whose parent is parentId ('' for those without a parent): cache candidates. */
  children(parentId: string): BuildImage[];
  /** When was the image created (for "the newest match wins"). */
  created(imageId: string): number;
  /** The image's local parent, if it has one. */
  parent(imageId: string): string | undefined;
  /** Links an image to its parent (a cache-from hit). */
  setParent(imageId: string, parentId: string): Promise<void>;
  /** A cache hit used this image. */
  noteCacheHit(imageId: string): void;
  tag(imageId: string, ref: string): Promise<string>;

  /** The files of an image ('' for scratch), until close(). */
  imageFS(imageId: string): Promise<ImageFS>;
  /** A new image on parentId with a layer of these entries (none: no layer). */
  createImage(parentId: string, entries: Iterable<LayerEntry> | undefined, config: ConfigFactory): Promise<BuildImage>;

  createContainer(config: StepContainerConfig, host: BuildHostConfig): Promise<{ id: string; warnings: string[] }>;
  /** Starts a created container, streams its output and waits for it to exit; aborts (kills it) on signal. */
  runContainer(id: string, io: RunIO, signal: AbortSignal): Promise<{ exitCode: number; error?: string }>;
  /** A new image on parentId from the container's changes. */
  commitContainer(id: string, parentId: string, config: ConfigFactory): Promise<BuildImage>;
  removeContainer(id: string): Promise<void>;
}
