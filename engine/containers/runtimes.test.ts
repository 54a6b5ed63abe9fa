import { describe, expect, it } from 'vitest';
import { Runtimes } from './runtimes.js';

const runc = { path: 'runc', runtimeArgs: [] };
const withRecord = (Runtime?: string) => ({ record: { hostConfig: Runtime === undefined ? {} : { Runtime } } });

describe('OCI runtimes by name', () => {
  it('gives each runtime its own state root and the default to requests that name none', () => {
    const rt = new Runtimes({ runc, alt: { path: '/usr/sbin/runc', runtimeArgs: ['--debug'] } }, 'runc', '/run/x');
    expect(rt.resolveName(undefined)).toBe('runc');
    expect(rt.resolveName('')).toBe('runc');
    expect(rt.resolveName('alt')).toBe('alt');
    expect(rt.for(withRecord('alt')).root).toBe('/run/x/runtimes/alt');
    expect(rt.for(withRecord('alt')).globalArgs()).toEqual(['--root', '/run/x/runtimes/alt', '--debug']);
    expect(rt.for(withRecord('runc')).root).toBe('/run/x/runc');
    expect(rt.for(withRecord()).root).toBe('/run/x/runc');
  });

  it("refuses unknown names with dockerd's message", () => {
    const rt = new Runtimes({ runc }, 'runc', '/run/x');
    expect(() => rt.resolveName('nvidia')).toThrow('unknown or invalid runtime name: nvidia');
  });

  it('a reload stops offering a removed runtime, but its containers keep it; a failed reload changes nothing', () => {
    const rt = new Runtimes({ runc, alt: { path: '/bin/true', runtimeArgs: [] } }, 'alt', '/run/x');
    rt.reload({ runc }, 'runc', () => undefined);
    expect(() => rt.resolveName('alt')).toThrow('unknown or invalid runtime name: alt');
    expect(rt.for(withRecord('alt')).root).toBe('/run/x/runtimes/alt');
    expect(rt.entries().map(([n]) => n)).toEqual(['runc']);
    expect(() => rt.reload({ runc, other: { path: '/nonexistent/runtime', runtimeArgs: [] } }, 'other', () => undefined)).toThrow('OCI runtime /nonexistent/runtime not found');
    expect(rt.defaultName).toBe('runc');
    expect(rt.entries().map(([n]) => n)).toEqual(['runc']);
    const warnings: string[] = [];
    rt.reload({ runc, other: { path: '/nonexistent/runtime', runtimeArgs: [] } }, 'runc', (m) => warnings.push(m));
    expect(warnings).toEqual(['runtime other: /nonexistent/runtime not found']);
  });
});
