/**
 * Smaller create/run and network behaviours docker-py's suite checks against dockerd:
 * --log-opt max-file without max-size, --mac-address, --cpu-rt-*, --device-cgroup-rule,
 * `docker rm --link`, network names with spaces, CheckDuplicate false below API 1.44, IPAM
 * Options null, --ip-range and --aux-address.
 */
import { test, expect, uniq } from '../support/fixtures.js';
import { rawApi } from '../support/registry.js';
import type { Berthd } from '../support/berthd.js';

const api = async (d: Berthd, method: string, path: string, body?: unknown) => {
  const r = await rawApi(d, method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { 'Content-Type': 'application/json' });
  const text = r.body.toString();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
};

test('--log-opt max-file without max-size is accepted at create (no rotation); a bad count is not', async ({ berthd }) => {
  const name = uniq('maxfile');
  await berthd.dockerOk(['run', '--name', name, '--log-driver', 'json-file', '--log-opt', 'max-file=100', 'busybox', 'echo', 'logged']);
  try {
    expect(await berthd.dockerOk(['logs', name])).toBe('logged\n');
    expect(JSON.parse(await berthd.dockerOk(['inspect', '--format', '{{json .HostConfig.LogConfig}}', name]))).toEqual({ Type: 'json-file', Config: { 'max-file': '100' } });
    const bad = await berthd.docker(['create', '--log-opt', 'max-file=0', 'busybox']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('max-file cannot be less than 1');
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});

test('--mac-address sets the MAC of the container interface (CLI, and Config.MacAddress at API 1.41)', async ({ berthd }) => {
  const mac = '02:42:ac:11:00:0a';
  expect((await berthd.dockerOk(['run', '--rm', '--mac-address', mac, 'busybox', 'cat', '/sys/class/net/eth0/address'])).trim()).toBe(mac);
  const create = await api(berthd, 'POST', '/v1.41/containers/create', { Image: 'busybox', Cmd: ['sleep', '30'], MacAddress: '02:42:ac:11:00:0b' });
  expect(create.status).toBe(201);
  const id = create.body.Id as string;
  try {
    expect((await api(berthd, 'POST', `/v1.41/containers/${id}/start`)).status).toBe(204);
    const info = (await api(berthd, 'GET', `/v1.41/containers/${id}/json`)).body;
    expect(info.NetworkSettings.MacAddress).toBe('02:42:ac:11:00:0b');
    expect(info.NetworkSettings.Networks.bridge.MacAddress).toBe('02:42:ac:11:00:0b');
    expect((await berthd.dockerOk(['exec', id, 'cat', '/sys/class/net/eth0/address'])).trim()).toBe('02:42:ac:11:00:0b');
  } finally {
    await berthd.docker(['rm', '-f', id]);
  }
  const bad = await berthd.docker(['create', '--mac-address', '02:42:zz:11:00:0a', 'busybox']);
  expect(bad.code).not.toBe(0);
});

test('--cpu-rt-period/--cpu-rt-runtime are stored; runtime above period is refused', async ({ berthd }) => {
  const id = (await berthd.dockerOk(['create', '--cpu-rt-period', '1000', '--cpu-rt-runtime', '500', 'busybox', 'true'])).trim();
  try {
    const hc = JSON.parse(await berthd.dockerOk(['inspect', '--format', '{{json .HostConfig}}', id]));
    expect(hc.CpuRealtimePeriod).toBe(1000);
    expect(hc.CpuRealtimeRuntime).toBe(500);
  } finally {
    await berthd.docker(['rm', '-f', id]);
  }
  const bad = await api(berthd, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { CpuRealtimePeriod: 1000, CpuRealtimeRuntime: 5000 } });
  expect(bad.status).toBe(400);
  expect(bad.body.message).toBe('cpu-rt-runtime cannot be higher than cpu-rt-period');
});

test('--device-cgroup-rule is stored and lets the container use that device node', async ({ berthd }) => {
  // A loop device node the container makes itself: denied by the default device rules, allowed by the rule.
  const probe = 'mknod /tmp/l b 7 0 && dd if=/tmp/l of=/dev/null bs=512 count=1 2>&1; echo rc=$?';
  const denied = await berthd.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', probe]);
  expect(denied).toContain('Operation not permitted');
  const name = uniq('devrule');
  const allowed = await berthd.dockerOk(['run', '--name', name, '--device-cgroup-rule', 'b 7:0 r', 'busybox', 'sh', '-c', probe]);
  try {
    expect(allowed).not.toContain('Operation not permitted');
    expect(JSON.parse(await berthd.dockerOk(['inspect', '--format', '{{json .HostConfig.DeviceCgroupRules}}', name]))).toEqual(['b 7:0 r']);
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
  const bad = await berthd.docker(['create', '--device-cgroup-rule', 'x 1:2 rwm', 'busybox']);
  expect(bad.code).not.toBe(0);
  const badApi = await api(berthd, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { DeviceCgroupRules: ['c 7 rwm'] } });
  expect(badApi.status).toBe(400);
  expect(badApi.body.message).toBe("invalid device cgroup format 'c 7 rwm'");
});

test('docker rm --link removes only the link; both containers stay', async ({ berthd }) => {
  const child = uniq('child');
  const parent = uniq('parent');
  await berthd.dockerOk(['run', '-d', '--name', child, 'busybox', 'sleep', '60']);
  await berthd.dockerOk(['run', '-d', '--name', parent, '--link', `${child}:mylink`, 'busybox', 'sleep', '60']);
  try {
    expect(JSON.parse(await berthd.dockerOk(['inspect', '--format', '{{json .HostConfig.Links}}', parent]))).toEqual([`/${child}:/${parent}/mylink`]);
    await berthd.dockerOk(['rm', '--link', `${parent}/mylink`]);
    expect(JSON.parse(await berthd.dockerOk(['inspect', '--format', '{{json .HostConfig.Links}}', parent]))).toBeNull();
    expect((await berthd.dockerOk(['ps', '-q', '--filter', `name=${child}`])).trim()).not.toBe('');
    expect((await berthd.dockerOk(['ps', '-q', '--filter', `name=${parent}`])).trim()).not.toBe('');
    const again = await berthd.docker(['rm', '--link', `${parent}/mylink`]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`No such container: ${parent}/mylink`);
    // The link is gone for good: a restart does not bring it back.
    await berthd.dockerOk(['restart', '-t', '0', parent]);
    expect(await berthd.docker(['exec', parent, 'grep', 'mylink', '/etc/hosts'])).toMatchObject({ code: 1 });
    const noLink = await api(berthd, 'DELETE', `/containers/${parent}/mylink`);
    expect(noLink.status).toBe(404);
  } finally {
    await berthd.docker(['rm', '-f', child, parent]);
  }
});

test('networks: names with spaces; CheckDuplicate false below API 1.44 only; IPAM Options null; --ip-range and --aux-address', async ({ berthd }) => {
  const spaced = `test ${uniq('sp')}`;
  await berthd.dockerOk(['network', 'create', spaced]);
  expect(JSON.parse(await berthd.dockerOk(['network', 'inspect', '--format', '{{json .Name}}', spaced]))).toBe(spaced);
  await berthd.dockerOk(['network', 'rm', spaced]);

  const dup = uniq('dup');
  const first = await api(berthd, 'POST', '/v1.41/networks/create', { Name: dup, CheckDuplicate: true });
  expect(first.status).toBe(201);
  expect((await api(berthd, 'POST', '/v1.41/networks/create', { Name: dup, CheckDuplicate: true })).status).toBe(409);
  // Newer clients: always refused (moby ignores CheckDuplicate since 1.44).
  expect((await api(berthd, 'POST', '/v1.44/networks/create', { Name: dup, CheckDuplicate: false })).status).toBe(409);
  const second = await api(berthd, 'POST', '/v1.41/networks/create', { Name: dup, CheckDuplicate: false });
  expect(second.status).toBe(201);
  expect(second.body.Id).not.toBe(first.body.Id);
  try {
    const ambiguous = await api(berthd, 'GET', `/networks/${dup}`);
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.message).toContain('ambiguous');
    expect((await api(berthd, 'GET', `/networks/${second.body.Id}`)).body.Name).toBe(dup);
    const names = (await api(berthd, 'GET', '/networks')).body.filter((n: { Name: string }) => n.Name === dup);
    expect(names).toHaveLength(2);
  } finally {
    expect((await api(berthd, 'DELETE', `/networks/${second.body.Id}`)).status).toBe(204);
    expect((await api(berthd, 'DELETE', `/networks/${first.body.Id}`)).status).toBe(204);
  }

  const ranged = uniq('ranged');
  await berthd.dockerOk(['network', 'create', '--subnet', '10.199.0.0/16', '--ip-range', '10.199.5.0/24', '--gateway', '10.199.5.254', '--aux-address', 'a=10.199.5.1', '--aux-address', 'b=10.199.1.6', ranged]);
  const name = uniq('inrange');
  try {
    const ipam = JSON.parse(await berthd.dockerOk(['network', 'inspect', '--format', '{{json .IPAM}}', ranged]));
    expect(ipam.Options).toBeNull();
    expect(ipam.Config).toEqual([{ Subnet: '10.199.0.0/16', IPRange: '10.199.5.0/24', Gateway: '10.199.5.254', AuxiliaryAddresses: { a: '10.199.5.1', b: '10.199.1.6' } }]);
    await berthd.dockerOk(['run', '-d', '--name', name, '--network', ranged, 'busybox', 'sleep', '60']);
    const ip = (await berthd.dockerOk(['inspect', '--format', `{{(index .NetworkSettings.Networks "${ranged}").IPAddress}}`, name])).trim();
    // Inside the range, and not the auxiliary address.
    expect(ip).toMatch(/^10\.199\.5\.\d+$/);
    expect(ip).not.toBe('10.199.5.1');
    const plain = JSON.parse(await berthd.dockerOk(['network', 'inspect', '--format', '{{json .IPAM.Options}}', 'bridge']));
    expect(plain).toBeNull();
  } finally {
    await berthd.docker(['rm', '-f', name]);
    await berthd.docker(['network', 'rm', ranged]);
  }
});
