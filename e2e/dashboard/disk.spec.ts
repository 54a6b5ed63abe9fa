/**
 * Disk usage and clean-up against a fresh berthd: the page's totals agree
 * with `docker system df`, and each prune first lists exactly what it would
 * delete, then deletes that and nothing else.
 */
import { test, expect, uniq, DashboardProcess } from './fixtures.js';

interface DfLine {
  Type: string;
  TotalCount: string | number;
  Active: string | number;
}

test('system df totals, then prune containers, dangling images and volumes, each with a preview of what goes', async ({ freshBerthd: d, page }) => {
  test.setTimeout(150_000);
  const dash = await DashboardProcess.start({ DOCKER_HOST: d.host });
  try {
    const p = uniq('df');
    await d.dockerOk(['create', '--name', `${p}-created`, 'busybox', 'true']);
    await d.dockerOk(['run', '--name', `${p}-exited`, 'busybox', 'sh', '-c', 'echo data > /file']);
    await d.dockerOk(['run', '-d', '--name', `${p}-running`, 'busybox', 'sleep', '1000']);
    // A dangling image: the same tag committed twice leaves the first one untagged.
    const firstId = (await d.dockerOk(['commit', `${p}-exited`, `${p}-img:one`])).trim();
    await d.dockerOk(['commit', '-m', 'again', `${p}-exited`, `${p}-img:one`]);
    // An anonymous volume its container left behind, and a named one nobody uses.
    await d.dockerOk(['run', '--name', `${p}-anon`, '-v', '/data', 'busybox', 'true']);
    const anon = (await d.dockerOk(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', `${p}-anon`])).trim();
    await d.dockerOk(['rm', `${p}-anon`]);
    await d.dockerOk(['volume', 'create', `${p}-named`]);

    await page.goto(`${dash.url}#/disk`);
    const df = (await d.dockerOk(['system', 'df', '--format', '{{json .}}']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DfLine);
    const cli = (type: string) => df.find((x) => x.Type === type)!;
    for (const [kind, type] of [
      ['images', 'Images'],
      ['containers', 'Containers'],
      ['volumes', 'Local Volumes'],
    ] as const) {
      const card = page.locator(`[data-disk-kind="${kind}"]`);
      await expect(card.locator('[data-total]')).toHaveText(String(cli(type).TotalCount));
      await expect(card.locator('[data-active]')).toHaveText(String(cli(type).Active));
    }
    await expect(page.locator('[data-disk-kind="containers"] [data-total]')).toHaveText('3');
    await expect(page.locator('[data-disk-kind="containers"] [data-active]')).toHaveText('1');

    // Containers: the two stopped ones, not the running one.
    await page.getByRole('button', { name: 'Prune containers' }).click();
    const dialog = page.getByRole('dialog');
    const preview = dialog.locator('[data-prune-preview="containers"]');
    await expect(preview).toContainText('2 items would be deleted');
    await expect(preview.locator('[data-prune-item]')).toHaveCount(2);
    await expect(preview.locator(`[data-prune-item="${p}-created"]`)).toHaveCount(1);
    await expect(preview.locator(`[data-prune-item="${p}-exited"]`)).toHaveCount(1);
    await dialog.getByRole('button', { name: 'Delete 2' }).click();
    await expect(page.locator('.toast.success').last()).toContainText('Deleted 2');
    expect((await d.dockerOk(['ps', '-a', '--format', '{{.Names}}'])).trim()).toBe(`${p}-running`);
    await expect(page.locator('[data-disk-kind="containers"] [data-total]')).toHaveText('1');

    // Images: the dangling one only; "all unused" would add the tagged one nothing uses, never busybox (in use).
    await page.getByRole('button', { name: 'Prune images' }).click();
    const ip = dialog.locator('[data-prune-preview="images"]');
    await expect(ip).toContainText('1 item would be deleted');
    await expect(ip.locator('[data-prune-item]')).toHaveText([new RegExp(`<none>@${firstId.replace('sha256:', '').slice(0, 12)}`)]);
    await dialog.getByLabel('All unused images, not only dangling ones').check();
    await expect(ip).toContainText('2 items would be deleted');
    await expect(ip.locator(`[data-prune-item="${p}-img:one"]`)).toHaveCount(1);
    await expect(ip.locator('[data-prune-item="busybox:latest"]')).toHaveCount(0);
    await dialog.getByLabel('All unused images, not only dangling ones').uncheck();
    await expect(ip).toContainText('1 item would be deleted');
    await dialog.getByRole('button', { name: 'Delete 1' }).click();
    await expect(page.locator('.toast.success').last()).toContainText('Deleted');
    expect((await d.docker(['image', 'inspect', firstId])).code).not.toBe(0);
    expect((await d.docker(['image', 'inspect', `${p}-img:one`])).code).toBe(0);

    // Volumes: anonymous ones by default (as docker volume prune), named ones too when asked.
    await page.getByRole('button', { name: 'Prune volumes' }).click();
    const vp = dialog.locator('[data-prune-preview="volumes"]');
    await expect(vp.locator('[data-prune-item]')).toHaveCount(1);
    await expect(vp.locator(`[data-prune-item="${anon}"]`)).toHaveCount(1);
    await dialog.getByLabel('Named volumes too, not only anonymous ones').check();
    await expect(vp.locator('[data-prune-item]')).toHaveCount(2);
    await expect(vp.locator(`[data-prune-item="${p}-named"]`)).toHaveCount(1);
    await dialog.getByRole('button', { name: 'Delete 2' }).click();
    await expect(page.locator('.toast.success').last()).toContainText('Deleted 2');
    expect((await d.dockerOk(['volume', 'ls', '-q'])).trim()).toBe('');

    // Nothing left to prune: the dialog says so and offers nothing to delete.
    await page.getByRole('button', { name: 'Prune containers' }).click();
    await expect(dialog.locator('[data-prune-preview]')).toContainText('Nothing would be deleted.');
    await expect(dialog.getByRole('button', { name: 'Nothing to delete' })).toBeDisabled();
  } finally {
    await dash.stop();
  }
});
