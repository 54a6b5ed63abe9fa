import { describe, expect, it } from 'vitest';
import { BuildArgs } from './buildargs.js';

const args = (o: Record<string, string | null>) => new BuildArgs(new Map(Object.entries(o)));

describe('build args', () => {
  it('declared ARGs take the client value over their default', () => {
    const b = args({ A: 'client' });
    b.addArg('A', 'dflt');
    b.addArg('B', 'b');
    b.addArg('C', undefined);
    expect(Object.fromEntries(b.allAllowed())).toEqual({ A: 'client', B: 'b' });
  });

  it('meta ARGs give defaults to redeclared ARGs and FROM lines', () => {
    const b = args({});
    b.addMetaArg('V', '1');
    expect(Object.fromEntries(b.allMeta())).toEqual({ V: '1' });
    const stage = b.clone();
    stage.resetAllowed();
    expect(stage.allAllowed().size).toBe(0);
    stage.addArg('V', undefined);
    expect(Object.fromEntries(stage.allAllowed())).toEqual({ V: '1' });
  });

  it('proxy variables are allowed undeclared but only referenced ones go into history', () => {
    const b = args({ HTTP_PROXY: 'http://p', no_proxy: null });
    expect(Object.fromEntries(b.allAllowed())).toEqual({ HTTP_PROXY: 'http://p' });
    expect(b.isReferencedOrNotBuiltin('HTTP_PROXY')).toBe(false);
    b.addArg('HTTP_PROXY', undefined);
    expect(b.isReferencedOrNotBuiltin('HTTP_PROXY')).toBe(true);
    expect(b.isReferencedOrNotBuiltin('FOO')).toBe(true);
  });

  it('ENV overrides an ARG of the same name', () => {
    const b = args({});
    b.addArg('A', '1');
    b.addArg('B', '2');
    expect(b.filterAllowed(['A=env'])).toEqual(['B=2']);
  });

  it('lists unused args sorted, ignoring proxies and referenced ones', () => {
    const b = args({ Z: '1', A: '2', HTTPS_PROXY: 'x', USED: 'u' });
    const stage = b.clone();
    stage.addArg('USED', undefined);
    b.mergeReferenced(stage);
    expect(b.unused()).toEqual(['A', 'Z']);
  });
});
