/**
 * Resolves Docker's `-u user[:group]` against the container's own
 * /etc/passwd and /etc/group, read through storage/confined.ts: the files are
 * the container's (or the image's), so a FIFO, a device node or a huge file
 * there must neither block the daemon nor make it read the host.
 */
import { InvalidParameterError } from '../errdefs.js';
import { MiB, readConfinedFile, UntrustedFileError } from '../storage/confined.js';

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

/** passwd and group files larger than this are refused (real ones are a few KiB). */
export const USER_DB_MAX_BYTES = MiB;

interface UserDb {
  text?: string;
  /** Why the file could not be used (a name lookup fails with it; without names it is ignored)... */
  problem?: string;
  /** ...unless it is not a regular file at all: runc reads these files itself and would block on a FIFO. */
  notRegular?: boolean;
}

/** A user database as text: nothing if absent, the reason if it is unusable (not regular, too large). */
async function readUserDb(rootfs: string, file: string): Promise<UserDb> {
  try {
    const buf = await readConfinedFile(rootfs, file, { maxBytes: USER_DB_MAX_BYTES });
    return buf === undefined ? {} : { text: buf.toString('utf8') };
  } catch (err) {
    if (err instanceof UntrustedFileError) return { problem: err.message, notRegular: err.reason === 'not-regular' };
    return { problem: `${file}: ${(err as Error).message}` };
  }
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

/**
 * `forRuntime` (the default): the user of a process runc will start, which reads passwd and group
 * itself; without it (docker cp -a) an unusable file only matters to name lookups.
 */
export async function resolveUser(rootfs: string, spec: string, groupAdd: readonly string[] = [], opts: { forRuntime?: boolean } = {}): Promise<ResolvedUser> {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const [passwdDb, groupDb] = await Promise.all([readUserDb(rootfs, '/etc/passwd'), readUserDb(rootfs, '/etc/group')]);
  const passwd = parsePasswd(passwdDb.text);
  const groups = parseGroup(groupDb.text);
  const noUser = (name: string) => new InvalidParameterError(`unable to find user ${name}: ${passwdDb.problem ?? 'no matching entries in passwd file'}`);
  const noGroup = (name: string, cap = false) => new InvalidParameterError(`${cap ? 'Unable' : 'unable'} to find group ${name}: ${groupDb.problem ?? 'no matching entries in group file'}`);
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
    if (!entry) throw noUser(userPart);
    uid = entry.uid;
    gid = entry.gid;
    home = entry.home;
    userName = entry.name;
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((e) => e.name === groupPart);
      if (!g) throw noGroup(groupPart);
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
      if (!g) throw noGroup(ga, true);
      additional.push(g.gid);
    }
  }
  // runc opens both files inside the container whatever the user spec: on a FIFO (or a device such as
  // a pty master) its init would wait forever, holding the start or exec. Refuse clearly instead.
  const blocking = opts.forRuntime === false ? undefined : [passwdDb, groupDb].find((db) => db.notRegular);
  if (blocking) throw new InvalidParameterError(`unable to set up the container user: ${blocking.problem} (the runtime would block reading it)`);
  return { uid, gid, additionalGids: additional, home };
}
