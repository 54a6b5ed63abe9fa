import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentContextName, discoverEndpoints } from './discovery.js';
import { dockerOptionsFor } from './engine.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function home(): { home: string; cfg: string } {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-'));
  dirs.push(h);
  const cfg = path.join(h, '.docker');
  fs.mkdirSync(cfg);
  return { home: h, cfg };
}

function addContext(cfg: string, name: string, host: string, tls = false): void {
  const id = createHash('sha256').update(name).digest('hex');
  const meta = path.join(cfg, 'contexts', 'meta', id);
  fs.mkdirSync(meta, { recursive: true });
  fs.writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
  if (tls) {
    const t = path.join(cfg, 'contexts', 'tls', id, 'docker');
    fs.mkdirSync(t, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) fs.writeFileSync(path.join(t, f), f);
  }
}

describe('engine discovery', () => {
  it('reads docker contexts (with their TLS files) and the current context', () => {
    const { home: h, cfg } = home();
    addContext(cfg, 'prod', 'ssh://deploy@prod.example');
    addContext(cfg, 'tls-box', 'tcp://10.0.0.5:2376', true);
    fs.writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ currentContext: 'prod' }));
    const found = discoverEndpoints({ env: {}, home: h });
    expect(found.map((f) => [f.id, f.host, f.current])).toEqual(
      expect.arrayContaining([
        ['context-prod', 'ssh://deploy@prod.example', true],
        ['context-tls-box', 'tcp://10.0.0.5:2376', false],
      ]),
    );
    const tls = found.find((f) => f.id === 'context-tls-box')!.tls!;
    expect(tls.verify).toBe(true);
    expect(fs.readFileSync(tls.cert!, 'utf8')).toBe('cert.pem');
    expect(currentContextName({ env: { DOCKER_CONTEXT: 'tls-box' }, home: h })).toBe('tls-box');
  });

  it('DOCKER_HOST wins like in the CLI, with DOCKER_CERT_PATH for TLS; DOCKER_CONFIG moves the config folder', () => {
    const { home: h } = home();
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cfg-'));
    dirs.push(other);
    addContext(other, 'x', 'unix:///x.sock');
    const certs = path.join(h, 'certs');
    fs.mkdirSync(certs);
    fs.writeFileSync(path.join(certs, 'ca.pem'), 'ca');
    const found = discoverEndpoints({ env: { DOCKER_HOST: 'tcp://1.2.3.4:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs, DOCKER_CONFIG: other }, home: h });
    expect(found[0]).toMatchObject({ id: 'env-docker-host', host: 'tcp://1.2.3.4:2376', current: true, tls: { verify: true, ca: path.join(certs, 'ca.pem') } });
    expect(found.find((f) => f.id === 'context-x')!.current).toBe(false);
  });

  it('ignores broken or stray context folders', () => {
    const { home: h, cfg } = home();
    const stray = path.join(cfg, 'contexts', 'meta', 'not-a-hash');
    fs.mkdirSync(stray, { recursive: true });
    fs.writeFileSync(path.join(stray, 'meta.json'), JSON.stringify({ Name: 'stray', Endpoints: { docker: { Host: 'unix:///s' } } }));
    const broken = path.join(cfg, 'contexts', 'meta', createHash('sha256').update('b').digest('hex'));
    fs.mkdirSync(broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'meta.json'), '{');
    expect(discoverEndpoints({ env: {}, home: h }).filter((f) => f.source === 'context' && f.id !== 'context-default')).toEqual([]);
  });

  it('turns hosts into dockerode options', () => {
    expect(dockerOptionsFor('unix:///var/run/berth/docker.sock')).toEqual({ socketPath: '/var/run/berth/docker.sock' });
    expect(dockerOptionsFor('tcp://10.0.0.5:2375')).toEqual({ host: '10.0.0.5', port: 2375, protocol: 'http' });
    expect(dockerOptionsFor('tcp://10.0.0.5', { verify: true, ca: Buffer.from('x') })).toMatchObject({ host: '10.0.0.5', port: 2376, protocol: 'https' });
    expect(dockerOptionsFor('ssh://me@box:2222')).toMatchObject({ protocol: 'ssh', host: 'box', port: 2222, username: 'me' });
    expect(() => dockerOptionsFor('ftp://x')).toThrow(/unsupported Docker host/);
  });
});
