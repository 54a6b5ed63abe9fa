import { describe, expect, it } from 'vitest';
import { applyChanges, expandEnv, parseDockerfile, parseDuration } from './dockerfile.js';
import type { ImageRunConfig } from './oci.js';

describe('applyChanges (docker import/commit --change)', () => {
  it('CMD in exec and shell form', () => {
    expect(applyChanges({}, ['CMD ["echo","a b"]']).Cmd).toEqual(['echo', 'a b']);
    expect(applyChanges({}, ['CMD echo hi && ls']).Cmd).toEqual(['/bin/sh', '-c', 'echo hi && ls']);
    // Malformed JSON falls back to the shell form, as Docker does.
    expect(applyChanges({}, ['CMD [echo']).Cmd).toEqual(['/bin/sh', '-c', '[echo']);
  });

  it('uses the config Shell for shell forms', () => {
    expect(applyChanges({ Shell: ['/bin/bash', '-xc'] }, ['CMD make']).Cmd).toEqual(['/bin/bash', '-xc', 'make']);
  });

  it('ENTRYPOINT resets CMD unless a CMD came first in the same set', () => {
    const base: ImageRunConfig = { Cmd: ['old'] };
    expect(applyChanges(base, ['ENTRYPOINT ["/run"]'])).toMatchObject({ Entrypoint: ['/run'], Cmd: null });
    expect(applyChanges(base, ['CMD ["x"]', 'ENTRYPOINT ["/run"]'])).toMatchObject({ Entrypoint: ['/run'], Cmd: ['x'] });
    expect(applyChanges(base, ['ENTRYPOINT ["/run"]', 'CMD ["y"]'])).toMatchObject({ Entrypoint: ['/run'], Cmd: ['y'] });
    expect(applyChanges(base, ['ENTRYPOINT exec server']).Entrypoint).toEqual(['/bin/sh', '-c', 'exec server']);
  });

  it('ENV: key=value lists with quotes, the legacy form, replacing existing keys', () => {
    const out = applyChanges({ Env: ['PATH=/bin', 'KEEP=1'] }, ['ENV A=1 B="two words" C=x\\ y', 'ENV LEGACY some value', 'ENV PATH=/usr/bin']);
    expect(out.Env).toEqual(['PATH=/usr/bin', 'KEEP=1', 'A=1', 'B=two words', 'C=x y', 'LEGACY=some value']);
  });

  it('ENV and other instructions expand $VAR from the environment so far', () => {
    const out = applyChanges({ Env: ['PATH=/bin', 'HOME=/root'] }, ['ENV PATH=$PATH:/opt/bin X=${HOME}/x Y=${NOPE:-dflt} Z=${HOME:+set} Q=\'$HOME\'', 'WORKDIR $HOME/app', 'LABEL home="$HOME"']);
    expect(out.Env).toEqual(['PATH=/bin:/opt/bin', 'HOME=/root', 'X=/root/x', 'Y=dflt', 'Z=set', 'Q=$HOME']);
    expect(out.WorkingDir).toBe('/root/app');
    expect(out.Labels).toEqual({ home: '/root' });
  });

  it('LABEL, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL', () => {
    const out = applyChanges({ Labels: { a: '1' } }, [
      'LABEL b=2 "c d"="e f"',
      'EXPOSE 80 443/udp 8000-8002/tcp',
      'USER 1000:1000',
      'WORKDIR /srv',
      'WORKDIR app/./sub/',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache /tmp/x',
      'STOPSIGNAL SIGTERM',
    ]);
    expect(out.Labels).toEqual({ a: '1', b: '2', 'c d': 'e f' });
    expect(Object.keys(out.ExposedPorts ?? {}).sort()).toEqual(['443/udp', '80/tcp', '8000/tcp', '8001/tcp', '8002/tcp']);
    expect(out.User).toBe('1000:1000');
    expect(out.WorkingDir).toBe('/srv/app/sub');
    expect(Object.keys(out.Volumes ?? {}).sort()).toEqual(['/cache', '/data', '/logs', '/tmp/x']);
    expect(out.StopSignal).toBe('SIGTERM');
  });

  it('HEALTHCHECK with flags, and NONE', () => {
    const out = applyChanges({}, ['HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --retries=3 CMD curl -f http://localhost/ || exit 1']);
    expect(out.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 30e9, Timeout: 90e9, StartPeriod: 500e6, Retries: 3 });
    expect(applyChanges({}, ['HEALTHCHECK CMD ["true"]']).Healthcheck).toEqual({ Test: ['CMD', 'true'] });
    expect(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck).toEqual({ Test: ['NONE'] });
  });

  it('ONBUILD triggers, with Docker\'s restrictions', () => {
    expect(applyChanges({}, ['ONBUILD RUN make']).OnBuild).toEqual(['RUN make']);
    expect(() => applyChanges({}, ['ONBUILD ONBUILD RUN x'])).toThrow("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    expect(() => applyChanges({}, ['ONBUILD FROM x'])).toThrow("FROM isn't allowed as an ONBUILD trigger");
  });

  it('refuses instructions that are not config changes, with Docker\'s wording', () => {
    for (const [change, msg] of [
      ['FROM busybox', 'from is not a valid change command'],
      ['RUN echo', 'run is not a valid change command'],
      ['COPY a b', 'copy is not a valid change command'],
      ['BOGUS x', 'bogus is not a valid change command'],
    ] as const) {
      expect(() => applyChanges({}, [change])).toThrow(msg);
      try {
        applyChanges({}, [change]);
      } catch (err) {
        expect((err as { status?: number }).status).toBe(400);
      }
    }
  });

  it('rejects bad arguments with 400s', () => {
    expect(() => applyChanges({}, ['EXPOSE abc'])).toThrow('invalid containerPort: abc');
    expect(() => applyChanges({}, ['STOPSIGNAL SIGNOPE'])).toThrow('Invalid signal: SIGNOPE');
    expect(() => applyChanges({}, ['USER'])).toThrow('USER requires exactly one argument');
    expect(() => applyChanges({}, ['ENV =x'])).toThrow('ENV names can not be blank');
    expect(() => applyChanges({}, ['ENV A="unterminated'])).toThrow('unexpected end of statement');
    expect(() => applyChanges({}, ['HEALTHCHECK --interval=5x CMD true'])).toThrow('time: invalid duration "5x"');
    expect(() => applyChanges({}, ['HEALTHCHECK WHAT'])).toThrow('Unknown type "WHAT" in HEALTHCHECK (try CMD)');
    expect(() => applyChanges({}, ['ENV A=${B'])).toThrow("missing '}'");
  });

  it('never modifies the config it is given', () => {
    const base: ImageRunConfig = { Env: ['A=1'], Labels: { x: 'y' }, Cmd: ['c'] };
    const copy = structuredClone(base);
    applyChanges(base, ['ENV A=2', 'LABEL x=z', 'ENTRYPOINT ["e"]']);
    expect(base).toEqual(copy);
  });

  it('accepts lowercase keywords, comments and continuations inside one change', () => {
    const out = applyChanges({}, ['# note\nenv A=1 \\\n  B=2', 'cmd ["x"]']);
    expect(out.Env).toEqual(['A=1', 'B=2']);
    expect(out.Cmd).toEqual(['x']);
  });
});

describe('helpers', () => {
  it('expandEnv leaves escaped and single-quoted dollars alone', () => {
    expect(expandEnv('a=$X \\$X \'$X\' "$X"', ['X=v'])).toBe('a=v \\$X \'$X\' "v"');
    expect(expandEnv('$UNSET-x', [])).toBe('-x');
    expect(expandEnv('v=$X', ['X=a b'])).toBe('v=a\\ b');
  });

  it('parseDuration', () => {
    expect(parseDuration('1h2m3s')).toBe(3723e9);
    expect(parseDuration('1.5s')).toBe(1.5e9);
    expect(() => parseDuration('')).toThrow('time: invalid duration ""');
  });

  it('parseDockerfile honours the escape directive', () => {
    const ins = parseDockerfile('# escape=`\nENV A=1 `\n B=2\n');
    expect(ins).toHaveLength(1);
    expect(ins[0]!.args).toBe('A=1  B=2');
  });
});
