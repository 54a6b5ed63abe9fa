/**
 * Registry credentials as clients send them: the X-Registry-Auth header
 * (base64url JSON, `e30=` for anonymous) and the POST /auth body. The daemon
 * holds them only for the request that carried them: never logged, never
 * written anywhere.
 */
import { InvalidParameterError } from '../errdefs.js';

export interface AuthConfig {
  username?: string;
  password?: string;
  serveraddress?: string;
  /** OAuth refresh token returned by an earlier login. */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
}

const fields: Record<string, keyof AuthConfig> = {
  username: 'username',
  password: 'password',
  serveraddress: 'serveraddress',
  identitytoken: 'identitytoken',
  registrytoken: 'registrytoken',
};

function invalid(why: string): InvalidParameterError {
  return new InvalidParameterError(`invalid X-Registry-Auth header: ${why}`);
}

/** Builds an AuthConfig from decoded JSON, matching keys case-insensitively like Go's encoding/json. */
export function authConfigFromJson(value: unknown): AuthConfig {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidParameterError('invalid JSON: the auth config must be an object');
  const out: AuthConfig = {};
  let auth: string | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = k.toLowerCase();
    if (key === 'auth' && typeof v === 'string') auth = v;
    const f = fields[key];
    if (!f) continue;
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string') throw new InvalidParameterError(`invalid JSON: json: cannot unmarshal ${typeof v} into Go struct field AuthConfig.${key} of type string`);
    if (v !== '') out[f] = v;
  }
  // Some clients send only the config file's "auth" (base64 user:password).
  if (out.username === undefined && out.password === undefined && auth) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      out.username = decoded.slice(0, i);
      out.password = decoded.slice(i + 1);
    }
  }
  return out;
}

/** Decodes X-Registry-Auth. Pulls and pushes ignore a malformed header, as dockerd does. */
export function decodeAuthHeader(header: string | string[] | undefined, strict = false): AuthConfig {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return {};
  try {
    // base64url as Docker sends it; standard base64 and missing padding from other clients.
    const normalized = value.trim().replace(/-/g, '+').replace(/_/g, '/');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normalized)) throw invalid('must be a valid base64url-encoded string');
    const text = Buffer.from(normalized, 'base64').toString('utf8');
    if (text.trim() === '{}') return {};
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw invalid(`invalid JSON: ${(err as Error).message}`);
    }
    return authConfigFromJson(json);
  } catch (err) {
    if (strict) throw err;
    return {};
  }
}

export function hasCredentials(a: AuthConfig): boolean {
  return !!(a.registrytoken || a.identitytoken || (a.username && a.password));
}
