import { test, expect } from '../support/fixtures.js';

test('docker run prints output and returns the exit code', async ({ berthd }) => {
  const r = await berthd.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo hi; exit 7']);
  expect(r.stdout).toBe('hi\n');
  expect(r.code).toBe(7);
});
