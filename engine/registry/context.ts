/**
 * What pull and push share inside the daemon: the stores they read and
 * write, the daemon-wide download manager and upload slots, in-flight layer
 * registrations, and the registry connections.
 */
import type { BlobStore } from '../images/blobs.js';
import type { LayerMeta, LayerStore } from '../images/layers.js';
import type { ImageStore } from '../images/store.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../daemon/log.js';
import type { DownloadManager, DynamicSemaphore } from './download.js';
import type { BlobSources } from './sources.js';

export interface RegistryContext {
  images: ImageStore;
  layers: LayerStore;
  blobs: BlobStore;
  events: EventBus;
  log: Logger;
  downloads: DownloadManager;
  uploads: DynamicSemaphore;
  /** Layer registrations in progress, by chain ID (shared by concurrent pulls). */
  registering: Map<string, Promise<LayerMeta>>;
  sources: BlobSources;
  /** Pulls currently using each blob digest: a failed pull deletes only blobs nobody else uses. */
  blobUsers: Map<string, number>;
  /** Seconds to wait before retry n of a transfer. */
  retryDelay: (attempt: number) => number;
}
