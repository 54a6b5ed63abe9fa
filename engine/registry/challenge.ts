/**
 * WWW-Authenticate parsing (RFC 7235): `Bearer realm="...",service="...",
 * scope="..."` or `Basic realm="..."`, several challenges possibly in one
 * header. Scheme and parameter names are case-insensitive.
 */
export interface Challenge {
  /** Lower-case scheme: "bearer", "basic", ... */
  scheme: string;
  params: Record<string, string>;
}

const tokenChar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

export function parseChallenges(headers: string | string[] | undefined): Challenge[] {
  if (headers === undefined) return [];
  const list = Array.isArray(headers) ? headers : [headers];
  const out: Challenge[] = [];
  for (const h of list) out.push(...parseOne(h));
  return out;
}

function parseOne(s: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = s.length;
  const skipWs = () => {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && tokenChar.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    // s[i] === '"'
    i++;
    let v = '';
    while (i < n && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < n) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote
    return v;
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const tok = readToken();
    if (tok === '') {
      i++; // skip garbage
      continue;
    }
    skipWs();
    if (s[i] === '=') {
      // token68 or parameter
      i++;
      skipWs();
      const value = s[i] === '"' ? readQuoted() : readToken();
      if (current) current.params[tok.toLowerCase()] = value;
    } else {
      current = { scheme: tok.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}
