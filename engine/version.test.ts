import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BERTH_VERSION } from './version.js';

describe('versions', () => {
  it("berthd's version is the package's", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(BERTH_VERSION).toBe(pkg.version);
  });
});
