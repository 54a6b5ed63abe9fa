/**
 * Leveled logger writing logfmt-style lines to stderr, like dockerd's text logs.
 * One process-wide instance; the level is changed on config reload.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export const logLevels = Object.keys(order) as LogLevel[];

export function isLogLevel(value: string): value is LogLevel {
  return value in order;
}

type Fields = Record<string, unknown>;

function quote(value: unknown): string {
  const s = value instanceof Error ? value.message : typeof value === 'string' ? value : JSON.stringify(value);
  return /^[\w./:@-]*$/.test(s) && s !== '' ? s : JSON.stringify(s);
}

export class Logger {
  constructor(
    private level: LogLevel = 'info',
    private readonly fields: Fields = {},
    private readonly sink: (line: string) => void = (line) => process.stderr.write(line),
  ) {}

  setLevel(level: LogLevel): void {
    this.level = level;
  }

  getLevel(): LogLevel {
    return this.level;
  }

  /** A logger that adds fixed fields (e.g. container=<id>) to every line. */
  with(fields: Fields): Logger {
    const child = new Logger(this.level, { ...this.fields, ...fields }, this.sink);
    // Children follow the parent's level changes.
    Object.defineProperty(child, 'level', { get: () => this.level, set: () => undefined });
    return child;
  }

  enabled(level: LogLevel): boolean {
    return order[level] >= order[this.level];
  }

  private write(level: LogLevel, msg: string, fields?: Fields): void {
    if (!this.enabled(level)) return;
    let line = `time="${new Date().toISOString()}" level=${level} msg=${quote(msg)}`;
    for (const [k, v] of Object.entries({ ...this.fields, ...fields })) {
      if (v !== undefined) line += ` ${k}=${quote(v)}`;
    }
    this.sink(line + '\n');
  }

  debug(msg: string, fields?: Fields): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.write('error', msg, fields);
  }
}

export const log = new Logger();
