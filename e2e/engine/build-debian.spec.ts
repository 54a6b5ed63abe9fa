/**
 * A real multi-stage build on Debian: an mmdebstrap bookworm rootfs
 * (minbase, the cached and validated fixture) as the base. Containers reach
 * no package mirror, so the build stage makes its artifacts with what Debian
 * ships (perl, tar, sha256sum, useradd) and the final stage copies them in
 * with an owner resolved through Debian's own /etc/passwd.
 */
import { test, expect, uniq } from '../support/fixtures.js';
import { debianRootfsTar } from '../support/registry.js';
import { cacheHits, contextDir } from './build-kit.js';

test('a multi-stage Debian build: artifacts made in one stage, copied into another, run', async ({ berthd: d }) => {
  test.setTimeout(600_000);
  const base = uniq('debian');
  await d.dockerOk(['import', '-c', 'CMD ["bash"]', '-c', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', debianRootfsTar(), `${base}:bookworm`], { timeout: 300_000 });
  const tag = uniq('debian-app');
  const ctx = contextDir({
    Dockerfile: [
      `FROM ${base}:bookworm AS build`,
      'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
      'WORKDIR /build',
      'COPY src/ ./src/',
      'RUN mkdir -p /out/bin /out/share \\',
      ' && (cd src && sha256sum *.txt) > /out/share/SHA256SUMS \\',
      " && perl -e 'print scalar(reverse(\"dlrow olleh\")), qq{\\n}' > /out/share/perl.txt \\",
      ' && tar -C src -czf /out/share/src.tgz . \\',
      ' && dpkg-query -W -f \'${Package}\\n\' | wc -l > /out/share/packages',
      'COPY hello.sh /out/bin/hello',
      '',
      `FROM ${base}:bookworm`,
      'RUN useradd --system --uid 990 --create-home app',
      'COPY --from=build --chown=app:app /out/share /usr/share/app/',
      'COPY --from=build /out/bin/hello /usr/local/bin/',
      'RUN hello && mkdir /tmp/check && tar -C /tmp/check -xzf /usr/share/app/src.tgz && cd /tmp/check && sha256sum -c /usr/share/app/SHA256SUMS && tar -tzf /usr/share/app/src.tgz | sort > /usr/share/app/listing && rm -r /tmp/check',
      'USER app',
      'WORKDIR /home/app',
      'CMD ["hello"]',
      '',
    ].join('\n'),
    'src/a.txt': 'alpha\n',
    'src/b.txt': 'beta\n',
    'hello.sh': { content: '#!/bin/sh\necho "hello from Debian $(cat /etc/debian_version) as $(id -un), $(cat /usr/share/app/perl.txt)"\n', mode: 0o755 },
  });
  try {
    const r = await d.docker(['build', '-t', tag, ctx.dir], { timeout: 300_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('a.txt: OK\nb.txt: OK\n');
    const out = await d.dockerOk(['run', '--rm', tag]);
    expect(out).toMatch(/^hello from Debian 12\.\d+ as app, hello world\n$/);
    expect(await d.dockerOk(['run', '--rm', tag, 'stat', '-c', '%U:%G %a %n', '/usr/share/app', '/usr/share/app/SHA256SUMS', '/usr/local/bin/hello'])).toBe('app:app 755 /usr/share/app\napp:app 644 /usr/share/app/SHA256SUMS\nroot:root 755 /usr/local/bin/hello\n');
    expect(await d.dockerOk(['run', '--rm', tag, 'cat', '/usr/share/app/listing'])).toBe('./\n./a.txt\n./b.txt\n');
    expect(Number(await d.dockerOk(['run', '--rm', tag, 'cat', '/usr/share/app/packages']))).toBeGreaterThan(50);
    // The whole build again is cache.
    const again = await d.docker(['build', '-t', tag, ctx.dir], { timeout: 300_000 });
    expect(cacheHits(again.stdout).filter((hit) => !hit)).toHaveLength(2);
  } finally {
    ctx.cleanup();
    await d.docker(['rmi', tag, `${base}:bookworm`]);
  }
});
