/**
 * `docker ps` (flags and filters) and `docker inspect` shapes.
 */
import { test, expect, uniq } from '../support/fixtures.js';

test('ps: -a, -q, -l, -n, -s, --no-trunc and filters', async ({ freshBerthd: d }) => {
  const run1 = uniq('ps-run');
  const exited0 = uniq('ps-ok');
  const exited3 = uniq('ps-fail');
  const created = uniq('ps-created');
  const id1 = (await d.dockerOk(['run', '-d', '--name', run1, '--label', 'tier=web', 'busybox', 'sleep', '60'])).trim();
  await d.dockerOk(['run', '--name', exited0, '--label', 'tier=job', 'busybox', 'true']);
  await d.docker(['run', '--name', exited3, 'busybox', 'sh', '-c', 'exit 3']);
  await d.dockerOk(['create', '--name', created, 'busybox']);
  const names = async (...args: string[]) => (await d.dockerOk(['ps', ...args, '--format', '{{.Names}}'])).split('\n').filter(Boolean);
  expect(await names()).toEqual([run1]);
  expect((await names('-a')).sort()).toEqual([run1, exited0, exited3, created].sort());
  expect(await names('-l')).toEqual([created]);
  expect(await names('-n', '2')).toEqual([created, exited3]);
  expect((await d.dockerOk(['ps', '-q'])).trim()).toBe(id1.slice(0, 12));
  expect((await d.dockerOk(['ps', '-q', '--no-trunc'])).trim()).toBe(id1);
  expect(await names('-a', '--filter', 'status=exited', '--filter', 'exited=3')).toEqual([exited3]);
  expect((await names('-a', '--filter', 'status=exited')).sort()).toEqual([exited0, exited3].sort());
  expect(await names('-a', '--filter', 'status=created')).toEqual([created]);
  expect(await names('-a', '--filter', 'label=tier=web')).toEqual([run1]);
  expect((await names('-a', '--filter', 'label=tier')).sort()).toEqual([run1, exited0].sort());
  expect(await names('-a', '--filter', `name=${exited0}`)).toEqual([exited0]);
  expect(await names('-a', '--filter', `id=${id1.slice(0, 10)}`)).toEqual([run1]);
  expect((await names('-a', '--filter', 'ancestor=busybox')).length).toBe(4);
  expect(await names('-a', '--filter', 'ancestor=other:none')).toEqual([]);
  expect(await names('-a', '--filter', `before=${exited0}`)).toEqual([run1]);
  expect((await names('-a', '--filter', `since=${exited0}`)).sort()).toEqual([exited3, created].sort());
  const bad = await d.docker(['ps', '--filter', 'status=sleeping']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("invalid filter 'status=sleeping'");
  const badKey = await d.docker(['ps', '--filter', 'colour=red']);
  expect(badKey.code).toBe(1);
  expect(badKey.stderr).toContain("invalid filter 'colour'");
  // -s adds the SIZE column (writable layer + virtual).
  await d.dockerOk(['exec', run1, 'sh', '-c', 'head -c 100000 /dev/zero > /tmp/blob']);
  const size = (await d.dockerOk(['ps', '-s', '--filter', `name=${run1}`, '--format', '{{.Size}}'])).trim();
  expect(size).toMatch(/^100kB \(virtual \d+(\.\d+)?MB\)$/);
  // Table header and columns as Docker prints them.
  const table = await d.dockerOk(['ps']);
  expect(table.split('\n')[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  expect(table.split('\n')[1]).toMatch(new RegExp(`^${id1.slice(0, 12)}\\s+busybox\\s+"sleep 60"\\s+.*ago\\s+Up .*\\s+${run1}$`));
});

test('inspect: container shape is complete and never null where clients need objects', async ({ berthd }) => {
  const name = uniq('inspect');
  await berthd.dockerOk(['run', '-d', '--name', name, '-e', 'X=1', '--label', 'a=b', 'busybox', 'sleep', '60']);
  const [c] = JSON.parse(await berthd.dockerOk(['inspect', name]));
  expect(c.Id).toMatch(/^[a-f0-9]{64}$/);
  expect(c.Name).toBe(`/${name}`);
  expect(c.Created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  expect(c.Path).toBe('sleep');
  expect(c.Args).toEqual(['60']);
  expect(c.State).toMatchObject({ Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, ExitCode: 0, Error: '' });
  expect(c.State.Pid).toBeGreaterThan(0);
  expect(c.Image).toMatch(/^sha256:[a-f0-9]{64}$/);
  expect(c.Config).toMatchObject({ Image: 'busybox', Cmd: ['sleep', '60'], Labels: { a: 'b' }, Tty: false, OpenStdin: false });
  expect(c.Config.Env).toContain('X=1');
  expect(c.HostConfig).toMatchObject({ NetworkMode: 'bridge', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, LogConfig: { Type: 'json-file' } });
  expect(c.NetworkSettings).not.toBeNull();
  expect(c.NetworkSettings.Ports).toEqual({});
  expect(Object.keys(c.NetworkSettings.Networks)).toEqual(['bridge']);
  expect(c.Mounts).toEqual([]);
  expect(c.GraphDriver.Name).toBe('overlay2');
  expect(c.Platform).toBe('linux');
  expect(c.RestartCount).toBe(0);
  // inspect -s
  const [sized] = JSON.parse(await berthd.dockerOk(['inspect', '-s', name]));
  expect(typeof sized.SizeRw).toBe('number');
  expect(sized.SizeRootFs).toBeGreaterThan(1_000_000);
  // `docker inspect` falls through types: an unknown name is a clean error.
  const missing = await berthd.docker(['inspect', 'nothing-by-this-name']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('No such object: nothing-by-this-name');
  // `docker port` works on a container without published ports.
  expect((await berthd.docker(['port', name])).code).toBe(0);
  await berthd.dockerOk(['rm', '-f', name]);
});

test('ambiguous and unknown ID prefixes', async ({ freshBerthd: d }) => {
  const ids: string[] = [];
  for (let i = 0; i < 24; i++) ids.push((await d.dockerOk(['create', 'busybox'])).trim());
  // With 24 IDs, some first hex digit is shared.
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id[0]!, (counts.get(id[0]!) ?? 0) + 1);
  const shared = [...counts.entries()].find(([, n]) => n > 1)![0];
  const r = await d.docker(['inspect', '--type', 'container', shared]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`multiple IDs found with provided prefix: ${shared}`);
  const unique = ids.find((id) => counts.get(id[0]!) === 1 || ids.filter((x) => x.startsWith(id.slice(0, 4))).length === 1)!;
  const prefix = ids.filter((x) => x.startsWith(unique.slice(0, 4))).length === 1 ? unique.slice(0, 4) : unique.slice(0, 12);
  expect((await d.dockerOk(['inspect', '-f', '{{.Id}}', prefix])).trim()).toBe(unique);
});
