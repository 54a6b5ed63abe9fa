/**
 * Resolves Docker's `-u user[:group]` against the container's own
 * /etc/passwd and /etc/group (read safely inside its root).
 */
import { InvalidParameterError } from '../errdefs.js';
import { readFileInRoot } from '../storage/rootpath.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  if (!text) return [];
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7 && !f[0]!.startsWith('#'))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

function parseGroup(text: string | undefined): GroupEntry[] {
  if (!text) return [];
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && !f[0]!.startsWith('#'))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }));
}

const isNumeric = (s: string) => /^\d+$/.test(s);

export function resolveUser(rootfs: string, spec: string, groupAdd: readonly string[] = []): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd = parsePasswd(readFileInRoot(rootfs, '/etc/passwd'));
  const groups = parseGroup(readFileInRoot(rootfs, '/etc/group'));
  let uid = 0;
  let gid = 0;
  let home = '/';
  let userName: string | undefined;
  if (userPart === '') {
    const root = passwd.find((p) => p.uid === 0);
    home = root?.home ?? '/root';
    userName = root?.name ?? 'root';
  } else if (isNumeric(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((p) => p.uid === uid);
    if (entry) {
      gid = entry.gid;
      home = entry.home;
      userName = entry.name;
    } else if (uid === 0) home = '/root';
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new InvalidParameterError(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
    gid = entry.gid;
    home = entry.home;
    userName = entry.name;
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw new InvalidParameterError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  // As moby: the primary group first, then the groups listing the user (unless a group was given), then --group-add.
  const additional = [gid];
  if (userName !== undefined && (groupPart === undefined || groupPart === '')) {
    for (const g of groups) if (g.members.includes(userName)) additional.push(g.gid);
  }
  for (const ga of groupAdd) {
    if (isNumeric(ga)) additional.push(Number(ga));
    else {
      const g = groups.find((e) => e.name === ga);
      if (!g) throw new InvalidParameterError(`Unable to find group ${ga}: no matching entries in group file`);
      additional.push(g.gid);
    }
  }
  return { uid, gid, additionalGids: additional, home };
}
