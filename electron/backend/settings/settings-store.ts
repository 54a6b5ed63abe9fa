/**
 * The user's settings in <configDir>/settings.json: read once, validated,
 * updated with patches, written atomically, with change notifications for the
 * windows, the tray and the engines. A file that cannot be read is kept aside
 * (settings.json.invalid) rather than overwritten, so nothing is lost.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../../engine/storage/atomic.js';
import { DEFAULT_SETTINGS, SettingsSchema, WindowBoundsSchema, type Settings, type SettingsPatch, type WindowBounds } from '../../contract/models.js';

export class SettingsStore {
  private current: Settings;
  private readonly events = new EventEmitter();
  private writing: Promise<void> = Promise.resolve();
  readonly file: string;
  /** Why the stored file was not used, if it was not. */
  readonly loadProblem: string | undefined;

  constructor(configDir: string) {
    this.file = path.join(configDir, 'settings.json');
    const { settings, problem } = this.load();
    this.current = settings;
    this.loadProblem = problem;
  }

  private load(): { settings: Settings; problem?: string } {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: { ...DEFAULT_SETTINGS } };
      return { settings: { ...DEFAULT_SETTINGS }, problem: `cannot read ${this.file}: ${(err as Error).message}` };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      this.keepAside();
      return { settings: { ...DEFAULT_SETTINGS }, problem: `${this.file} is not valid JSON (${(err as Error).message}); kept it as settings.json.invalid` };
    }
    // Key by key, so one bad value does not throw away the rest.
    const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    const bad: string[] = [];
    if (raw && typeof raw === 'object') {
      for (const [k, v] of Object.entries(raw)) {
        const field = (SettingsSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>)[k];
        if (!field) continue;
        const r = field.safeParse(v);
        if (r.success) merged[k] = r.data;
        else bad.push(k);
      }
    }
    const settings = SettingsSchema.parse(merged);
    return bad.length ? { settings, problem: `ignored invalid settings: ${bad.join(', ')}` } : { settings };
  }

  private keepAside(): void {
    try {
      fs.copyFileSync(this.file, `${this.file}.invalid`);
    } catch {
      // Best effort: the original stays until the next write.
    }
  }

  get(): Settings {
    return this.current;
  }

  async update(patch: SettingsPatch): Promise<Settings> {
    const next = SettingsSchema.parse({ ...this.current, ...stripUndefined(patch) });
    this.current = next;
    await this.persist();
    this.events.emit('change', next);
    return next;
  }

  /** Window bounds change often (every resize): persisted without notifying the UI. */
  async saveWindow(bounds: WindowBounds): Promise<void> {
    this.current = { ...this.current, window: WindowBoundsSchema.parse(bounds) };
    await this.persist();
  }

  /**
   * Resolves when every write started so far is on disk. The new value is
   * visible (get(), snapshots) as soon as update() is called, so a process
   * that exits right after must wait for this or lose the user's last choice.
   */
  flush(): Promise<void> {
    return this.writing.catch(() => undefined);
  }

  onChange(listener: (s: Settings) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  private persist(): Promise<void> {
    const snapshot = JSON.stringify(this.current, null, 2) + '\n';
    // Writes are chained so a slow disk never reorders them.
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        await writeFileAtomic(this.file, snapshot);
      });
    return this.writing;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
