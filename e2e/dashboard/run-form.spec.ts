/**
 * The Run form's docker run flags against a real berthd: ports prefilled from
 * the image's EXPOSE, a host address per port, a user network, memory and CPU
 * limits — checked in the created container — and "Copy as docker run",
 * whose command the stock docker CLI turns into the same container.
 */
import { execFile } from 'node:child_process';
import { test, expect, uniq } from './fixtures.js';

interface Inspect {
  Config: { Image: string };
  HostConfig: { Memory: number; NanoCpus: number; NetworkMode: string; PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> };
}

test('ports from EXPOSE, host IP, network, memory and CPUs reach the container; Copy as docker run makes the same one', async ({ app, berthd, page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const p = uniq('runform');
  const image = `${p}-img:1`;
  const net = `${p}-net`;
  await berthd.dockerOk(['create', '--name', `${p}-base`, 'busybox', 'true']);
  await berthd.dockerOk(['commit', '--change', 'EXPOSE 8080/tcp', '--change', 'EXPOSE 5353/udp', '--change', 'CMD ["sleep", "1000"]', `${p}-base`, image]);
  await berthd.dockerOk(['rm', `${p}-base`]);
  await berthd.dockerOk(['network', 'create', net]);
  const name = `${p}-app`;
  try {
    await app.open('#/images');
    await page.getByRole('button', { name: `Run ${image}` }).click();
    const dialog = page.getByRole('dialog');
    // EXPOSE becomes one row per port, on a random host port (as -P would).
    await expect(dialog.getByLabel('Container port 1')).toHaveValue('5353');
    await expect(dialog.getByLabel('Protocol 1')).toHaveValue('udp');
    await expect(dialog.getByLabel('Container port 2')).toHaveValue('8080');
    await expect(dialog.getByLabel('Random host port 2')).toBeChecked();
    await dialog.getByLabel('Host IP 2').fill('127.0.0.1');
    await dialog.getByLabel('Container name').fill(name);
    await dialog.getByLabel('Network').selectOption(net);
    await dialog.getByLabel('Memory limit').fill('64m');
    await dialog.getByLabel('CPUs').fill('0.5');

    await dialog.getByRole('button', { name: 'Copy as docker run' }).click();
    await expect(page.locator('.toast.success').last()).toContainText('Copied');
    const command = await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
    expect(command).toBe(`docker run -d --name ${name} -p 5353/udp -p 127.0.0.1::8080 --network ${net} --memory 64m --cpus 0.5 ${image}`);

    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.getByRole('heading', { name })).toBeVisible();
    const made = JSON.parse(await berthd.dockerOk(['inspect', name]))[0] as Inspect;
    expect(made.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(made.HostConfig.NanoCpus).toBe(500_000_000);
    expect(made.HostConfig.NetworkMode).toBe(net);
    expect(made.HostConfig.PortBindings['8080/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '' }]);
    expect(made.HostConfig.PortBindings['5353/udp']).toEqual([{ HostIp: '', HostPort: '' }]);
    const published = (await berthd.dockerOk(['port', name, '8080/tcp'])).trim();
    expect(published).toMatch(/^127\.0\.0\.1:\d+$/);

    // The copied command, run by the docker CLI (under another name), makes the same container.
    const twin = `${name}-cli`;
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile('sh', ['-c', command.replace(`--name ${name}`, `--name ${twin}`)], { env: berthd.env }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr: String(stderr) })),
    );
    expect(r.code, r.stderr).toBe(0);
    const cli = JSON.parse(await berthd.dockerOk(['inspect', twin]))[0] as Inspect;
    for (const k of ['Memory', 'NanoCpus', 'NetworkMode', 'PortBindings'] as const) expect(cli.HostConfig[k], k).toEqual(made.HostConfig[k]);
    expect(cli.Config.Image).toBe(made.Config.Image);
  } finally {
    await berthd.docker(['rm', '-f', name, `${name}-cli`]);
    await berthd.docker(['network', 'rm', net]);
    await berthd.docker(['rmi', image]);
  }
});

test('bad limits are refused in the form with what to type', async ({ app, page }) => {
  await app.open('#/images');
  await page.getByRole('button', { name: 'Run busybox:latest' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Memory limit').fill('lots');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('memory: "lots" is not a size (use e.g. 512m or 1g)');
  await dialog.getByLabel('Memory limit').fill('1k');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('the minimum memory limit is 6 MB');
  await dialog.getByLabel('Memory limit').fill('');
  await dialog.getByLabel('CPUs').fill('-1');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('CPUs: "-1" is not a positive number');
  await dialog.getByLabel('CPUs').fill('');
  await dialog.getByLabel('Host IP 1').fill('not-an-ip');
  await dialog.getByLabel('Container port 1').fill('80');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('port 1: "not-an-ip" is not an IP address');
});
