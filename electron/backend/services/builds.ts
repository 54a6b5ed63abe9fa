/**
 * Builds from the app, what outlives one build: the short history of builds started from the
 * app (builds.json next to the settings, atomic writes), and a folder on this host packed as
 * the docker CLI packs it (.dockerignore applied, owners 0:0, the Dockerfile and .dockerignore
 * always sent). The build itself is a stream: streams/build.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { BuildRecord } from '../../contract/models.js';
import { BackendError } from '../errors.js';
import { writeFileAtomic } from '../../../engine/storage/atomic.js';
import { PatternMatcher, readIgnoreFile } from '../../../engine/builder/dockerignore.js';

const KEEP = 100;

export class BuildHistory {
  private records: BuildRecord[] = [];
  private readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, 'builds.json');
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { builds?: BuildRecord[] };
      this.records = Array.isArray(parsed.builds) ? parsed.builds.slice(0, KEEP) : [];
    } catch {
      this.records = [];
    }
  }

  list(): BuildRecord[] {
    return [...this.records];
  }

  async add(r: BuildRecord): Promise<void> {
    this.records = [r, ...this.records].slice(0, KEEP);
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ builds: this.records }, null, 1) + '\n');
  }
}

/** A folder as the docker CLI sends it: .dockerignore applied (never to the Dockerfile or .dockerignore), lexical order, 0:0. */
export function packFolder(dir: string, dockerfile: string): Readable {
  const root = path.resolve(dir);
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new BackendError(`no such folder: ${dir}`, 400);
  }
  if (!st.isDirectory()) throw new BackendError(`${dir} is not a folder`, 400);
  const df = dockerfile || 'Dockerfile';
  if (!fs.existsSync(path.join(root, df))) throw new BackendError(`Cannot locate specified Dockerfile: ${df}`, 400);
  let patterns: string[] = [];
  try {
    patterns = readIgnoreFile(fs.readFileSync(path.join(root, '.dockerignore')));
  } catch {
    patterns = [];
  }
  const keep = new Set(['.dockerignore', path.posix.normalize(df)]);
  const matcher = new PatternMatcher(patterns);
  const pack = tar.pack();
  const walk = async (rel: string): Promise<void> => {
    const names = (await fs.promises.readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(root, r);
      const s = await fs.promises.lstat(full);
      const ignored = !keep.has(r) && matcher.matches(r);
      if (ignored && !(s.isDirectory() && matcher.hasExclusions && matcher.mayReinclude(r))) continue;
      const header = { name: r, mode: s.mode & 0o7777, mtime: s.mtime, uid: 0, gid: 0 };
      if (s.isDirectory()) {
        if (!ignored) pack.entry({ ...header, type: 'directory' });
        await walk(r);
      } else if (s.isSymbolicLink()) {
        pack.entry({ ...header, type: 'symlink', linkname: await fs.promises.readlink(full) });
      } else if (s.isFile()) {
        await new Promise<void>((resolve, reject) => {
          const entry = pack.entry({ ...header, type: 'file', size: s.size }, (err) => (err ? reject(err) : resolve()));
          fs.createReadStream(full).on('error', reject).pipe(entry);
        });
      }
    }
  };
  walk('').then(
    () => pack.finalize(),
    (err: Error) => pack.destroy(err),
  );
  return pack as unknown as Readable;
}
