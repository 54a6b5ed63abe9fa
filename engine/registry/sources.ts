/**
 * Which repositories a blob is known to exist in (recorded on pull and push),
 * so a push can ask the registry to mount it from a sibling repository
 * instead of uploading it again. One small JSON file per blob digest.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { KeyedMutex } from '../concurrency/mutex.js';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic.js';

const MAX_SOURCES = 8;

export class BlobSources {
  private readonly lock = new KeyedMutex();

  constructor(private readonly dir: string) {}

  private file(digest: string): string {
    return path.join(this.dir, digest.replace(/^sha256:/, '') + '.json');
  }

  /** Repositories (full names, e.g. 127.0.0.1:5000/foo) holding the blob, newest first. */
  async get(digest: string): Promise<string[]> {
    try {
      return (await readJsonIfExists<string[]>(this.file(digest))) ?? [];
    } catch {
      return [];
    }
  }

  async add(digest: string, repository: string): Promise<void> {
    await this.lock.run(digest, async () => {
      const list = await this.get(digest);
      if (list[0] === repository) return;
      const next = [repository, ...list.filter((r) => r !== repository)].slice(0, MAX_SOURCES);
      await fsp.mkdir(this.dir, { recursive: true });
      await writeJsonAtomic(this.file(digest), next, { durable: false });
    });
  }

  async remove(digest: string, repository: string): Promise<void> {
    await this.lock.run(digest, async () => {
      const list = await this.get(digest);
      if (!list.includes(repository)) return;
      await writeJsonAtomic(this.file(digest), list.filter((r) => r !== repository), { durable: false });
    });
  }
}
