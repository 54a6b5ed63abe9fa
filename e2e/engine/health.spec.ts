/**
 * Health checks through the stock CLI: every --health-* flag, --no-healthcheck, the image's
 * HEALTHCHECK, State.Health (status, streak, the last 5 results), health_status events, the
 * `health` filter and "(healthy)" of docker ps, and the state surviving a berthd restart.
 */
import { test, expect, uniq } from '../support/fixtures.js';
import { eventually as eventuallyTruthy, type Berthd } from '../support/berthd.js';

/** Retries assertions until they hold. */
const eventually = (check: () => Promise<void>, timeoutMs: number) =>
  eventuallyTruthy(async () => {
    await check();
    return true;
  }, timeoutMs);

interface Health {
  Status: string;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

async function health(d: Berthd, name: string): Promise<Health | null> {
  return JSON.parse(await d.dockerOk(['inspect', '--format', '{{json .State.Health}}', name])) as Health | null;
}

async function status(d: Berthd, name: string): Promise<string> {
  return (await health(d, name))?.Status ?? 'none';
}

test('--health-cmd/-interval: starting, then healthy; ps shows (healthy) and filters by health; the last 5 results; probes are not listed as execs', async ({ berthd }) => {
  const name = uniq('healthy');
  const since = Math.floor(Date.now() / 1000) - 1;
  await berthd.dockerOk(['run', '-d', '--name', name, '--health-cmd', 'echo probe-ran; exit 0', '--health-interval', '300ms', 'busybox', 'sleep', '60']);
  try {
    expect(['starting', 'healthy']).toContain(await status(berthd, name));
    await eventually(async () => expect(await status(berthd, name)).toBe('healthy'), 15_000);
    expect((await berthd.dockerOk(['ps', '--filter', `name=${name}`, '--format', '{{.Status}}'])).trim()).toMatch(/^Up .* \(healthy\)$/);
    expect((await berthd.dockerOk(['ps', '-q', '--filter', `name=${name}`, '--filter', 'health=healthy'])).trim()).not.toBe('');
    expect((await berthd.dockerOk(['ps', '-q', '--filter', `name=${name}`, '--filter', 'health=unhealthy'])).trim()).toBe('');
    expect((await berthd.dockerOk(['ps', '-q', '--filter', `name=${name}`, '--filter', 'health=none'])).trim()).toBe('');
    // More than five probes ran: only the last five are kept.
    await eventually(async () => expect((await health(berthd, name))!.Log).toHaveLength(5), 15_000);
    const h = (await health(berthd, name))!;
    expect(h.FailingStreak).toBe(0);
    for (const r of h.Log) {
      expect(r).toMatchObject({ ExitCode: 0, Output: 'probe-ran\n' });
      expect(Date.parse(r.End)).toBeGreaterThanOrEqual(Date.parse(r.Start));
    }
    const inspect = JSON.parse(await berthd.dockerOk(['inspect', name]))[0];
    expect(inspect.Config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'echo probe-ran; exit 0'], Interval: 300_000_000 });
    // Finished probes are not kept as execs (at most the one in flight shows).
    expect((inspect.ExecIDs ?? []).length).toBeLessThanOrEqual(1);
    const events = await berthd.dockerOk(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${name}`, '--format', '{{.Action}}']);
    expect(events.split('\n').filter((a) => a.startsWith('health_status'))).toEqual(['health_status: healthy']);
    expect(events).toContain('exec_create: /bin/sh -c echo probe-ran; exit 0');
    // No healthcheck: health=none.
    const plain = uniq('plain');
    await berthd.dockerOk(['run', '-d', '--name', plain, 'busybox', 'sleep', '60']);
    expect((await berthd.dockerOk(['ps', '-q', '--filter', `name=${plain}`, '--filter', 'health=none'])).trim()).not.toBe('');
    expect(await health(berthd, plain)).toBeNull();
    await berthd.dockerOk(['rm', '-f', plain]);
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});

test('--health-retries: unhealthy after that many failures, with the output and a health_status event; --health-timeout kills a slow probe', async ({ berthd }) => {
  const failing = uniq('failing');
  const slow = uniq('slow');
  const since = Math.floor(Date.now() / 1000) - 1;
  await berthd.dockerOk(['run', '-d', '--name', failing, '--health-cmd', 'echo not ok >&2; exit 3', '--health-interval', '300ms', '--health-retries', '2', 'busybox', 'sleep', '60']);
  await berthd.dockerOk(['run', '-d', '--name', slow, '--health-cmd', 'sleep 30', '--health-timeout', '400ms', '--health-interval', '300ms', '--health-retries', '1', 'busybox', 'sleep', '60']);
  try {
    await eventually(async () => expect(await status(berthd, failing)).toBe('unhealthy'), 15_000);
    const h = (await health(berthd, failing))!;
    expect(h.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(h.Log[0]).toMatchObject({ ExitCode: 3, Output: 'not ok\n' });
    expect((await berthd.dockerOk(['ps', '--filter', `name=${failing}`, '--format', '{{.Status}}'])).trim()).toMatch(/\(unhealthy\)$/);
    expect((await berthd.dockerOk(['ps', '-q', '--filter', `name=${failing}`, '--filter', 'health=unhealthy'])).trim()).not.toBe('');
    await eventually(async () => expect(await status(berthd, slow)).toBe('unhealthy'), 15_000);
    expect((await health(berthd, slow))!.Log[0]).toMatchObject({ ExitCode: -1, Output: 'Health check exceeded timeout (400ms)' });
    // Killed probes do not pile up in the container: at most the one in flight is there.
    const ps = await berthd.dockerOk(['exec', slow, 'ps', '-o', 'args']);
    expect(ps.split('\n').filter((l) => l.includes('sleep 30')).length).toBeLessThanOrEqual(2);
    const events = await berthd.dockerOk(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'event=health_status', '--format', '{{.Actor.Attributes.name}} {{.Action}}']);
    expect(events).toContain(`${failing} health_status: unhealthy`);
    expect(events).toContain(`${slow} health_status: unhealthy`);
  } finally {
    await berthd.docker(['rm', '-f', failing, slow]);
  }
});

test('--health-start-period: failures while starting do not count until it ends; --health-start-interval is kept', async ({ berthd }) => {
  const name = uniq('startperiod');
  await berthd.dockerOk([
    'run', '-d', '--name', name,
    '--health-cmd', 'exit 1', '--health-interval', '300ms', '--health-retries', '1',
    '--health-start-period', '3s', '--health-start-interval', '200ms',
    'busybox', 'sleep', '60',
  ]);
  try {
    await eventually(async () => expect((await health(berthd, name))!.Log.length).toBeGreaterThanOrEqual(2), 10_000);
    const early = (await health(berthd, name))!;
    expect(early.Status).toBe('starting');
    expect(early.FailingStreak).toBe(0);
    await eventually(async () => expect(await status(berthd, name)).toBe('unhealthy'), 15_000);
    const cfg = JSON.parse(await berthd.dockerOk(['inspect', '--format', '{{json .Config.Healthcheck}}', name]));
    expect(cfg).toMatchObject({ Test: ['CMD-SHELL', 'exit 1'], StartPeriod: 3_000_000_000, StartInterval: 200_000_000, Retries: 1 });
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});

test("the image's HEALTHCHECK applies (flags override it field by field); --no-healthcheck turns it off", async ({ berthd }) => {
  const image = `${uniq('hcimage')}:1`;
  const src = uniq('hcsrc');
  await berthd.dockerOk(['create', '--name', src, 'busybox', 'true']);
  await berthd.dockerOk(['commit', '--change', 'HEALTHCHECK --interval=300ms --retries=1 CMD ["sh", "-c", "test -e /tmp/sick && exit 1 || exit 0"]', src, image]);
  const fromImage = uniq('fromimage');
  const overridden = uniq('overridden');
  const off = uniq('nohc');
  try {
    await berthd.dockerOk(['run', '-d', '--name', fromImage, image, 'sleep', '60']);
    await eventually(async () => expect(await status(berthd, fromImage)).toBe('healthy'), 15_000);
    await berthd.dockerOk(['exec', fromImage, 'touch', '/tmp/sick']);
    await eventually(async () => expect(await status(berthd, fromImage)).toBe('unhealthy'), 15_000);
    await berthd.dockerOk(['exec', fromImage, 'rm', '/tmp/sick']);
    await eventually(async () => expect(await status(berthd, fromImage)).toBe('healthy'), 15_000);

    // --health-cmd replaces the test; the image's interval and retries still apply.
    await berthd.dockerOk(['run', '-d', '--name', overridden, '--health-cmd', 'exit 1', image, 'sleep', '60']);
    const cfg = JSON.parse(await berthd.dockerOk(['inspect', '--format', '{{json .Config.Healthcheck}}', overridden]));
    expect(cfg).toEqual({ Test: ['CMD-SHELL', 'exit 1'], Interval: 300_000_000, Retries: 1 });
    await eventually(async () => expect(await status(berthd, overridden)).toBe('unhealthy'), 15_000);

    await berthd.dockerOk(['run', '-d', '--name', off, '--no-healthcheck', image, 'sleep', '60']);
    expect(JSON.parse(await berthd.dockerOk(['inspect', '--format', '{{json .Config.Healthcheck}}', off]))).toMatchObject({ Test: ['NONE'] });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await health(berthd, off)).toBeNull();
    expect((await berthd.dockerOk(['ps', '--filter', `name=${off}`, '--format', '{{.Status}}'])).trim()).not.toContain('health');
  } finally {
    await berthd.docker(['rm', '-f', src, fromImage, overridden, off]);
    await berthd.docker(['rmi', image]);
  }
});

test('health survives a berthd restart: the state is kept, probing goes on; a stop keeps the last state and a new start begins at starting', async ({ freshBerthd: d }) => {
  const name = uniq('restored');
  await d.dockerOk(['run', '-d', '--name', name, '--health-cmd', 'exit 0', '--health-interval', '300ms', 'busybox', 'sleep', '120']);
  await eventually(async () => expect(await status(d, name)).toBe('healthy'), 15_000);
  const before = (await health(d, name))!;
  await d.kill9();
  await d.launch();
  const after = (await health(d, name))!;
  expect(after.Status).toBe('healthy');
  expect(after.Log[0]!.Start <= before.Log[before.Log.length - 1]!.Start).toBe(true);
  // Probing resumed: newer results arrive.
  await eventually(async () => {
    const h = (await health(d, name))!;
    expect(h.Log[h.Log.length - 1]!.Start > before.Log[before.Log.length - 1]!.Start).toBe(true);
  }, 15_000);
  await d.restart();
  await eventually(async () => {
    const h = (await health(d, name))!;
    expect(h.Log[h.Log.length - 1]!.Start > after.Log[after.Log.length - 1]!.Start).toBe(true);
  }, 15_000);

  await d.dockerOk(['stop', '-t', '0', name]);
  const stopped = (await health(d, name))!;
  expect(stopped.Status).toBe('healthy');
  await new Promise((r) => setTimeout(r, 800));
  expect((await health(d, name))!.Log).toEqual(stopped.Log);
  await d.dockerOk(['start', name]);
  const restarted = (await health(d, name))!;
  expect(restarted.Status).toBe('starting');
  expect(restarted.FailingStreak).toBe(0);
  await eventually(async () => expect(await status(d, name)).toBe('healthy'), 15_000);
});
