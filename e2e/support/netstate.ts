/**
 * What a test daemon holds on the host, to compare before and after: links
 * on its bridges, its iptables rules, mounts under its roots, its listening
 * sockets. Other engines (and other test daemons) on the machine are left
 * out, so concurrent runs do not disturb the comparison.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Berthd } from './berthd.js';

export interface HostState {
  links: string[];
  rules: string[];
  mounts: string[];
  listeners: string[];
  monitors: number;
}

function ownBridges(d: Berthd): string[] {
  const bridges = [d.net!.bridge];
  try {
    const recs = JSON.parse(fs.readFileSync(`${d.dataRoot}/network/networks.json`, 'utf8')) as Array<{ Name: string; Id: string; Driver: string }>;
    for (const r of recs) if (r.Driver === 'bridge' && r.Name !== 'bridge') bridges.push(`br-${r.Id.slice(0, 12)}`);
  } catch {
    /* none yet */
  }
  return bridges;
}

export function hostState(d: Berthd): HostState {
  const bridges = ownBridges(d);
  const linkJson = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; master?: string }>;
  const links = linkJson.filter((l) => bridges.includes(l.ifname) || (l.master && bridges.includes(l.master))).map((l) => `${l.ifname}${l.master ? ` master ${l.master}` : ''}`);
  const tag = `BERTH-${d.net!.bridge}`;
  const rules = execFileSync('iptables-save', { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(tag) || bridges.some((b) => l.includes(` ${b} `) || l.endsWith(` ${b}`)))
    .map((l) => l.replace(/\[\d+:\d+\]/, '[0:0]'));
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(d.dataRoot) || m.startsWith(d.execRoot));
  const pid = d.proc?.pid;
  let listeners: string[] = [];
  if (pid) {
    const out = execFileSync('ss', ['-Htulnp'], { encoding: 'utf8' });
    listeners = out
      .split('\n')
      .filter((l) => l.includes(`pid=${pid},`))
      .map((l) => l.trim().split(/\s+/).slice(0, 5).join(' '))
      .sort();
  }
  let monitors = 0;
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(d.execRoot + '/')) monitors++;
    } catch {
      /* exited */
    }
  }
  return { links: links.sort(), rules: rules.sort(), mounts: mounts.sort(), listeners, monitors };
}
