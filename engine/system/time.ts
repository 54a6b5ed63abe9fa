/** Timestamps in the formats the Docker API uses. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

let lastNano = 0n;

/** Current time in nanoseconds since the epoch, strictly increasing within the process. */
export function nowNanos(): bigint {
  const ms = BigInt(Date.now());
  const sub = process.hrtime.bigint() % 1_000_000n;
  let n = ms * 1_000_000n + sub;
  if (n <= lastNano) n = lastNano + 1n;
  lastNano = n;
  return n;
}

/** RFC3339 with nanoseconds, trailing zeros trimmed (Go's time.RFC3339Nano). */
export function rfc3339Nano(nanos: bigint = nowNanos()): string {
  const ms = Number(nanos / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2024-01-01T00:00:00.123Z
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return iso.slice(0, 19) + (frac ? `.${frac}` : '') + 'Z';
}

/** RFC3339 with exactly 9 fractional digits, as `docker logs -t` prints. */
export function rfc3339NanoFixed(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 19) + '.' + (nanos % 1_000_000_000n).toString().padStart(9, '0') + 'Z';
}

/** Parses RFC3339 (any fraction length, Z or ±hh:mm) into nanoseconds; NaN-safe (returns undefined). */
export function parseRfc3339Nanos(s: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(m[1] + (m[3] === 'Z' ? 'Z' : m[3]));
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

export function parseTimeMs(s: string): number {
  if (!s || s === ZERO_TIME) return 0;
  const n = parseRfc3339Nanos(s);
  return n === undefined ? 0 : Number(n / 1_000_000n);
}

/** go-units HumanDuration, as used in `docker ps` STATUS ("Up 5 minutes"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3600000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}
