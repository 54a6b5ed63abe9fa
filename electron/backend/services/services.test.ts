import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { listTar, pathStatFromHeaders } from './files.js';
import { createOptions, forEachBulk } from './containers.js';
import { containerRow } from '../model/mappers.js';

function tarOf(entries: Array<{ name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string }>): PassThrough {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}), mode: e.type === 'directory' ? 0o755 : 0o644 }, e.body ?? '');
  pack.finalize();
  const out = new PassThrough();
  pack.pipe(out);
  return out;
}

describe('files', () => {
  it('lists the direct children of an archived folder, folders first', async () => {
    const r = await listTar(tarOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/passwd', body: 'root' }, { name: 'etc/ssl/', type: 'directory' }, { name: 'etc/ssl/cert.pem', body: 'x' }, { name: 'etc/mtab', type: 'symlink', linkname: '/proc/mounts' }]));
    expect(r.rootIsDir).toBe(true);
    expect(r.entries.map((e) => [e.name, e.type, e.size])).toEqual([['ssl', 'dir', 0], ['mtab', 'symlink', 0], ['passwd', 'file', 4]]);
    expect(r.entries.find((e) => e.name === 'mtab')!.linkTarget).toBe('/proc/mounts');
  });

  it('handles the root folder archived as "./"', async () => {
    const r = await listTar(tarOf([{ name: './', type: 'directory' }, { name: './bin/', type: 'directory' }, { name: './bin/sh', body: 'x' }, { name: './.dockerenv' }]));
    expect(r.entries.map((e) => e.name)).toEqual(['bin', '.dockerenv']);
  });

  it('reads the path stat header', () => {
    const h = Buffer.from(JSON.stringify({ name: 'passwd', size: 12, mode: 420 })).toString('base64');
    expect(pathStatFromHeaders({ 'x-docker-container-path-stat': h })).toEqual({ name: 'passwd', size: 12, mode: 420 });
    expect(pathStatFromHeaders({})).toBeUndefined();
  });
});

describe('containers', () => {
  it('turns a Run dialog spec into the create body docker run would send', () => {
    const o = createOptions({
      image: 'nginx',
      name: 'web',
      ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, protocol: 'udp' }],
      volumes: [{ source: 'data', target: '/data' }, { source: '/srv/site', target: '/usr/share/nginx/html', readOnly: true }],
      env: [{ key: 'A', value: 'b=c' }],
      cmd: ['nginx', '-g', 'daemon off;'],
      restart: 'unless-stopped',
    });
    expect(o).toMatchObject({
      name: 'web',
      Image: 'nginx',
      Env: ['A=b=c'],
      Cmd: ['nginx', '-g', 'daemon off;'],
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      HostConfig: {
        PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] },
        Binds: ['data:/data', '/srv/site:/usr/share/nginx/html:ro'],
        RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
        AutoRemove: false,
      },
    });
    expect(createOptions({ image: 'busybox', ports: [], volumes: [], env: [], cmd: [] }).Cmd).toBeUndefined();
    expect(() => createOptions({ image: 'x', ports: [{ containerPort: 0 }], volumes: [], env: [], cmd: [] })).toThrow();
    expect(() => createOptions({ image: 'x', ports: [], volumes: [{ source: 'v', target: 'relative' }], env: [], cmd: [] })).toThrow(/absolute/);
  });

  it('runs bulk actions with limited concurrency and reports each failure', async () => {
    let active = 0;
    let peak = 0;
    const r = await forEachBulk(
      Array.from({ length: 20 }, (_, i) => `c${i}`),
      async (id) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((res) => setTimeout(res, 2));
        active--;
        if (id === 'c3') throw Object.assign(new Error('x'), { json: { message: 'cannot stop c3' } });
      },
      4,
    );
    expect(peak).toBe(4);
    expect(r.filter((x) => x.error)).toEqual([{ id: 'c3', error: 'cannot stop c3' }]);
  });

  it('maps a container summary to a row with compose labels and one link per published port', () => {
    const row = containerRow({
      Id: 'abc',
      Names: ['/shop-web-1'],
      Image: 'nginx',
      ImageID: 'sha256:1',
      Command: 'nginx',
      Created: 1,
      State: 'running',
      Status: 'Up 2 minutes',
      Ports: [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      ],
      Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' },
      Mounts: [{ Type: 'volume', Name: 'data', Source: '', Destination: '/d', Driver: 'local', Mode: '', RW: true, Propagation: '' }],
      NetworkSettings: { Networks: { shop_default: {} } },
      HostConfig: { NetworkMode: 'shop_default' },
    } as never);
    expect(row).toMatchObject({ name: 'shop-web-1', project: 'shop', service: 'web', volumes: ['data'], networks: ['shop_default'], ports: [{ ip: '0.0.0.0', privatePort: 80, publicPort: 8080, type: 'tcp' }] });
  });
});
