/**
 * Query-string parsing with the Docker API's conventions: lenient booleans and integers
 * with clear errors (filters and timestamps: filters.ts).
 */
import { InvalidParameterError } from '../errdefs.js';

const falsy = new Set(['', '0', 'no', 'false', 'none']);

export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  return !falsy.has(v.trim().toLowerCase());
}

export function intParam(q: URLSearchParams, name: string, dflt?: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidParameterError(`invalid value for ${name}: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return n;
}
