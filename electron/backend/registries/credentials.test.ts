import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialStore, DOCKER_HUB_SERVER, displayName, normalizeServer, registryOfReference } from './credentials.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-creds-'));
  dirs.push(d);
  return d;
}

describe('registry names', () => {
  it('finds the registry of a reference and the config key for what the user typed, as the docker CLI does', () => {
    expect(registryOfReference('busybox')).toBe(DOCKER_HUB_SERVER);
    expect(registryOfReference('library/busybox:1')).toBe(DOCKER_HUB_SERVER);
    expect(registryOfReference('team/app')).toBe(DOCKER_HUB_SERVER);
    expect(registryOfReference('docker.io/team/app')).toBe(DOCKER_HUB_SERVER);
    expect(registryOfReference('127.0.0.1:5000/app:v1')).toBe('127.0.0.1:5000');
    expect(registryOfReference('localhost/app')).toBe('localhost');
    expect(registryOfReference('ghcr.io/o/r@sha256:abc')).toBe('ghcr.io');
    expect(normalizeServer('docker.io')).toBe(DOCKER_HUB_SERVER);
    expect(normalizeServer('https://registry.example.com:5000/v2/')).toBe('registry.example.com:5000');
    expect(displayName(DOCKER_HUB_SERVER)).toBe('Docker Hub');
  });
});

describe('CredentialStore', () => {
  it('keeps base64 user:password in config.json (0600), keeps other keys, and erases', async () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ psFormat: 'table {{.Names}}', auths: { 'other:1': { auth: Buffer.from('bob:x').toString('base64') } } }));
    const s = new CredentialStore(d);
    expect(await s.store('127.0.0.1:5000', 'alice', { password: 'p:w' })).toBe(path.join(d, 'config.json'));
    const cfg = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8'));
    expect(cfg.psFormat).toBe('table {{.Names}}');
    expect(Buffer.from(cfg.auths['127.0.0.1:5000'].auth, 'base64').toString()).toBe('alice:p:w');
    expect(fs.statSync(path.join(d, 'config.json')).mode & 0o777).toBe(0o600);
    expect(await s.get('127.0.0.1:5000')).toEqual({ username: 'alice', password: 'p:w', serveraddress: '127.0.0.1:5000' });
    // Keys written with a scheme (older CLIs) match the host.
    expect(await s.get('other:1')).toMatchObject({ username: 'bob', password: 'x' });
    expect((await s.list()).accounts.map((a) => [a.server, a.username])).toEqual([
      ['127.0.0.1:5000', 'alice'],
      ['other:1', 'bob'],
    ]);
    expect(await s.erase('127.0.0.1:5000')).toBe(true);
    expect(await s.get('127.0.0.1:5000')).toBeUndefined();
    expect(await s.erase('127.0.0.1:5000')).toBe(false);
  });

  it('an identity token is stored as the CLI stores it', async () => {
    const s = new CredentialStore(dir());
    await s.store(DOCKER_HUB_SERVER, 'alice', { identitytoken: 'tok' });
    expect(await s.get(DOCKER_HUB_SERVER)).toEqual({ identitytoken: 'tok', serveraddress: DOCKER_HUB_SERVER, username: 'alice' });
  });

  it('a config file that is not JSON is refused with what to do, and left as it is', async () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'config.json'), '{ not json');
    const s = new CredentialStore(d);
    await expect(s.store('r:1', 'u', { password: 'p' })).rejects.toThrow(/cannot parse .*config\.json.*move it away/);
    expect(fs.readFileSync(path.join(d, 'config.json'), 'utf8')).toBe('{ not json');
  });

  it('a credsStore that is not installed says so', async () => {
    const d = dir();
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ credsStore: 'nonexistent-helper-xyz' }));
    const s = new CredentialStore(d, 2000);
    await expect(s.store('r:1', 'u', { password: 'p' })).rejects.toThrow('docker-credential-nonexistent-helper-xyz is set in');
    expect(await s.get('r:1')).toBeUndefined();
  });
});
