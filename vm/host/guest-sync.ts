/**
 * Keeps the guest's clock and resolver following the host's. The clock is pushed when the VM
 * becomes ready, after the host resumes from sleep (the wall clock jumps ahead of the monotonic
 * clock), and whenever a periodic check finds it off by more than 250 ms. The resolver: the guest
 * always asks QEMU's DNS forwarder (which asks whatever the host uses now, VPN included); the host's
 * search domains and options are copied over, and again when /etc/resolv.conf changes.
 */
import fs from 'node:fs';
import { ROUTES } from '../channel/protocol.js';
import type { AgentChannel } from './agent-channel.js';

export interface ResolverSettings {
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolverSettings {
  const search: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'search' || key === 'domain') search.splice(0, search.length, ...rest);
    else if (key === 'options') options.push(...rest.filter((o) => /^(ndots|timeout|attempts):\d+$|^(rotate|edns0|single-request|single-request-reopen|use-vc)$/.test(o)));
  }
  return { search, options };
}

/** True when the wall clock moved more than `slackMs` beyond the monotonic clock since the last check. */
export function detectJump(prevWall: number, prevMono: number, wall: number, mono: number, slackMs = 3000): boolean {
  return wall - prevWall - (mono - prevMono) > slackMs;
}

export class GuestSync {
  private timers: NodeJS.Timeout[] = [];
  private lastWall = 0;
  private lastMono = 0;
  private lastResolv = '';

  constructor(
    private readonly channel: () => AgentChannel | undefined,
    private readonly log: (m: string) => void,
    private readonly resolvConf = '/etc/resolv.conf',
  ) {}

  start(): void {
    this.stop();
    void this.pushTime('the VM is ready');
    void this.pushDns(true);
    this.lastWall = Date.now();
    this.lastMono = performance.now();
    this.timers.push(
      setInterval(() => {
        const wall = Date.now();
        const mono = performance.now();
        if (detectJump(this.lastWall, this.lastMono, wall, mono)) {
          void this.pushTime('the host resumed from sleep');
          void this.pushDns(true);
        }
        this.lastWall = wall;
        this.lastMono = mono;
      }, 2000),
      setInterval(() => void this.checkDrift(), 30_000),
      setInterval(() => void this.pushDns(false), 5000),
    );
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  async pushTime(why: string): Promise<void> {
    const ch = this.channel();
    if (!ch) return;
    try {
      const r = await ch.request(ROUTES.time, { method: 'PUT', body: JSON.stringify({ unixMs: Date.now() }), timeoutMs: 15_000 });
      if (r.status === 200) this.log(`guest clock set (${why}; it was off by ${Math.round((JSON.parse(r.body) as { offsetMs: number }).offsetMs)} ms)`);
      else this.log(`guest clock: ${r.body}`);
    } catch (err) {
      this.log(`guest clock: ${(err as Error).message}`);
    }
  }

  private async checkDrift(): Promise<void> {
    const ch = this.channel();
    if (!ch) return;
    try {
      const sent = Date.now();
      const r = await ch.request(ROUTES.info, { timeoutMs: 15_000 });
      const back = Date.now();
      const guest = (JSON.parse(r.body) as { clock: number }).clock;
      const offset = guest - (sent + back) / 2;
      if (Math.abs(offset) > 250 + (back - sent) / 2) await this.pushTime(`drift of ${Math.round(offset)} ms`);
    } catch {
      // The health check reports a guest that does not answer.
    }
  }

  private async pushDns(force: boolean): Promise<void> {
    let text = '';
    try {
      text = fs.readFileSync(this.resolvConf, 'utf8');
    } catch {
      // No resolv.conf on this host (Windows): QEMU's forwarder follows the host's resolver.
    }
    if (!force && text === this.lastResolv) return;
    const ch = this.channel();
    if (!ch) return;
    this.lastResolv = text;
    try {
      await ch.request(ROUTES.dns, { method: 'PUT', body: JSON.stringify(parseResolvConf(text)), timeoutMs: 15_000 });
    } catch (err) {
      this.log(`guest resolver: ${(err as Error).message}`);
    }
  }
}
