/**
 * How clients reach the engine (issue 10, items 6–8): the unix socket exists only as root:group
 * 0660 (dockerd's -G/--group and `group` key), TCP with TLS and mutual TLS as dockerd does it
 * (flags and daemon.json keys; certificates made by openssl here), dockerd's warnings for plain
 * TCP, and a listen backlog that takes a burst of 1,000 simultaneous connections.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { test, expect } from '../support/fixtures.js';
import { Berthd, eventually } from '../support/berthd.js';
import { claimNetSlot, releaseNetSlot } from '../support/network.js';
import { berthdBin } from '../support/paths.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
}

/** A CA, a server certificate for 127.0.0.1, a client certificate, and a client certificate from another CA. */
function makePki(): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tls-'));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ca = (name: string) => {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.pem`));
  };
  const leaf = (name: string, caName: string, ext: string) => {
    fs.writeFileSync(f(`${name}.ext`), ext);
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.csr`));
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${caName}.pem`), '-CAkey', f(`${caName}-key.pem`), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
  };
  ca('ca');
  ca('rogue-ca');
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  return { dir, ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server-key.pem'), clientCert: f('client.pem'), clientKey: f('client-key.pem'), rogueCert: f('rogue.pem'), rogueKey: f('rogue-key.pem') };
}

/**
 * Starts berthd with flags that must make it fail before it touches the host, and returns what it
 * printed (its own state in a temp dir, its own network slot should it get that far).
 */
function failedStart(args: string[], configFile?: string): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-badstart-'));
  const slot = claimNetSlot(process.pid * 11 + 5);
  const config = configFile ?? path.join(base, 'daemon.json');
  if (!configFile) fs.writeFileSync(config, JSON.stringify(slot.config));
  // Short, as the fixtures' (e2e/support/berthd.ts): monitor sockets go under it (108-byte limit), and TMPDIR may be long.
  const execRoot = fs.mkdtempSync('/run/bbad');
  try {
    execFileSync(process.execPath, [berthdBin, '--data-root', path.join(base, 'data'), '--exec-root', execRoot, '-H', `unix://${base}/s.sock`, '--config-file', config, ...args], { stdio: 'pipe', timeout: 30_000 });
    return 'started';
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err);
  } finally {
    releaseNetSlot(slot);
    fs.rmSync(base, { recursive: true, force: true });
    fs.rmSync(execRoot, { recursive: true, force: true });
  }
}

/** The stock docker CLI against a TCP host, with the given TLS flags. */
function dockerTcp(berthd: Berthd, host: string, tlsArgs: string[], args: string[]) {
  const env = { ...berthd.env };
  delete env.DOCKER_HOST;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('docker', [...tlsArgs, '-H', host, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function plainGet(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/_ping', timeout: 5_000 }, (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
    req.on('error', (e) => resolve(`refused: ${e.message}`));
    req.on('timeout', () => {
      req.destroy();
      resolve('refused: timeout');
    });
  });
}

test.describe('TLS on tcp:// as dockerd', () => {
  let pki: Pki;
  test.beforeAll(() => {
    pki = makePki();
  });
  test.afterAll(() => fs.rmSync(pki.dir, { recursive: true, force: true }));

  test('--tlsverify: mutual TLS for the docker CLI and dockerode; no certificate, another CA or plain HTTP are refused', async () => {
    const port = await freePort();
    const host = `tcp://127.0.0.1:${port}`;
    const d = await Berthd.start({ args: ['-H', host, '--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.serverCert, '--tlskey', pki.serverKey] });
    try {
      const verify = ['--tlsverify', '--tlscacert', pki.ca];
      const good = [...verify, '--tlscert', pki.clientCert, '--tlskey', pki.clientKey];
      const version = await dockerTcp(d, host, good, ['version', '--format', '{{.Server.APIVersion}}']);
      expect(version.code, version.stderr).toBe(0);
      expect(version.stdout.trim()).toBe('1.51');
      // Attach (a hijacked connection) works over TLS too.
      const run = await dockerTcp(d, host, good, ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'over-tls']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('over-tls\n');
      // exec (a hijack with a JSON body) and stdin through attach, too.
      expect((await dockerTcp(d, host, good, ['run', '-d', '--name', 'tls-exec', '--network', 'none', 'busybox', 'sleep', '60'])).code).toBe(0);
      const exec = await dockerTcp(d, host, good, ['exec', 'tls-exec', 'sh', '-c', 'echo exec-over-tls']);
      expect(exec.stdout).toBe('exec-over-tls\n');
      expect((await dockerTcp(d, host, good, ['rm', '-f', 'tls-exec'])).code).toBe(0);

      const noCert = await dockerTcp(d, host, verify, ['version']);
      expect(noCert.code).not.toBe(0);
      expect(noCert.stderr).toMatch(/certificate|tls|EOF|reset/i);
      const rogue = await dockerTcp(d, host, [...verify, '--tlscert', pki.rogueCert, '--tlskey', pki.rogueKey], ['version']);
      expect(rogue.code).not.toBe(0);
      const plainCli = await dockerTcp(d, host, [], ['version']);
      expect(plainCli.code).not.toBe(0);
      expect(await plainGet(port)).toMatch(/^refused/);

      const ca = fs.readFileSync(pki.ca);
      const client = new Docker({ host: '127.0.0.1', port, protocol: 'https', ca, cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) });
      expect(String(await client.ping())).toBe('OK');
      expect(Array.isArray(await client.listContainers({ all: true }))).toBe(true);
      const noCertClient = new Docker({ host: '127.0.0.1', port, protocol: 'https', ca });
      await expect(noCertClient.ping()).rejects.toThrow();
      const rogueClient = new Docker({ host: '127.0.0.1', port, protocol: 'https', ca, cert: fs.readFileSync(pki.rogueCert), key: fs.readFileSync(pki.rogueKey) });
      await expect(rogueClient.ping()).rejects.toThrow();
      // The unix socket beside it is untouched by TLS, and no plain-TCP warning was given.
      expect((await d.dockerOk(['version', '--format', '{{.Server.APIVersion}}'])).trim()).toBe('1.51');
      expect(d.log).not.toContain('without --tlsverify');
      expect(d.log).toContain('tls=verify');
    } finally {
      await d.destroy();
    }
  });

  test('daemon.json tls keys, and --tls without verify: TLS for any client, plain HTTP still refused', async () => {
    const port = await freePort();
    const host = `tcp://127.0.0.1:${port}`;
    const d = await Berthd.start({ busybox: false, args: ['-H', host], config: { tls: true, tlscert: pki.serverCert, tlskey: pki.serverKey } });
    try {
      const tlsOnly = await dockerTcp(d, host, ['--tlsverify', '--tlscacert', pki.ca], ['version', '--format', '{{.Server.APIVersion}}']);
      expect(tlsOnly.code, tlsOnly.stderr).toBe(0);
      expect(await plainGet(port)).toMatch(/^refused/);
      // TLS without client verification is still unauthenticated: dockerd's warnings say so.
      await eventually(() => d.log.includes('Binding to IP address without --tlsverify is insecure'));
    } finally {
      await d.destroy();
    }
    const port2 = await freePort();
    const host2 = `tcp://127.0.0.1:${port2}`;
    const v = await Berthd.start({ busybox: false, args: ['-H', host2], config: { tlsverify: true, tlscacert: pki.ca, tlscert: pki.serverCert, tlskey: pki.serverKey } });
    try {
      const ok = await dockerTcp(v, host2, ['--tlsverify', '--tlscacert', pki.ca, '--tlscert', pki.clientCert, '--tlskey', pki.clientKey], ['info', '--format', '{{.OSType}}']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout.trim()).toBe('linux');
      expect((await dockerTcp(v, host2, ['--tlsverify', '--tlscacert', pki.ca], ['info'])).code).not.toBe(0);
    } finally {
      await v.destroy();
    }
  });

  test('missing certificate files and flags given twice fail the start with a clear message', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tls-bad-'));
    try {
      fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ tlsverify: true }));
      expect(failedStart(['--tlsverify'], path.join(dir, 'daemon.json'))).toContain('the following directives are specified both as a flag and in the configuration file: tlsverify');
      const none = path.join(dir, 'none.pem');
      expect(failedStart(['-H', 'tcp://127.0.0.1:0', '--tlsverify', '--tlscacert', none, '--tlscert', none, '--tlskey', none])).toMatch(/could not load X509 key pair: certificate .*none\.pem/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('plain TCP gets dockerd\'s warnings', async () => {
  const port = await freePort();
  const d = await Berthd.start({ busybox: false, args: ['-H', `tcp://127.0.0.1:${port}`] });
  try {
    expect(await plainGet(port)).toBe('answered 200');
    expect(d.log).toContain('Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.');
    expect(d.log).toContain('Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!');
  } finally {
    await d.destroy();
  }
});

test.describe('the unix socket', () => {
  /** Spins on lstat until the socket exists and reports what it was at first sight. */
  function firstSight(sock: string): { done: Promise<{ mode: number; gid: number }>; stop: () => void } {
    const script = `
      const fs = require('node:fs'); const p = process.argv[1]; const end = Date.now() + 30000;
      while (Date.now() < end) { try { const st = fs.lstatSync(p); process.stdout.write(JSON.stringify({ mode: st.mode & 0o7777, gid: st.gid })); process.exit(0); } catch {} }
      process.exit(1);`;
    const child = spawn(process.execPath, ['-e', script, sock], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    return {
      done: new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { mode: number; gid: number }) : reject(new Error('socket never appeared'))))),
      stop: () => child.kill(),
    };
  }

  test('is root:group 0660 from the moment it exists; -G and the group key choose the group; an unknown group fails the start', async () => {
    const groupGid = (name: string) => Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
    // Default: the "berth" group when the machine has one, else root.
    let berthGid = 0;
    try {
      berthGid = groupGid('berth');
    } catch {
      /* no berth group here */
    }
    const d = await Berthd.start({ busybox: false });
    let watcher: ReturnType<typeof firstSight> | undefined;
    try {
      let st = fs.statSync(d.socket);
      expect(st.mode & 0o7777).toBe(0o660);
      expect(st.gid).toBe(berthGid);
      expect(st.uid).toBe(0);
      // Restarted: the socket is seen for the first time already 0660 in its group (it used to appear
      // with the umask's mode and be chmod-ed after listen).
      await d.stop();
      watcher = firstSight(d.socket);
      await new Promise((r) => setTimeout(r, 200));
      await d.launch();
      const seen = await watcher.done;
      expect(seen).toEqual({ mode: 0o660, gid: berthGid });
      // -G users (dockerd's flag) chooses the group, from the first moment too.
      await d.stop();
      watcher = firstSight(d.socket);
      await new Promise((r) => setTimeout(r, 200));
      d.setArgs(['-G', 'users']);
      await d.launch();
      expect(await watcher.done).toEqual({ mode: 0o660, gid: groupGid('users') });
      st = fs.statSync(d.socket);
      expect(st.gid).toBe(groupGid('users'));
      // No staging directory is left beside it.
      expect(fs.readdirSync(path.dirname(d.socket)).filter((n) => n.startsWith('.berthd-'))).toEqual([]);
    } finally {
      watcher?.stop();
      await d.destroy();
    }
    const viaConfig = await Berthd.start({ busybox: false, config: { group: 'adm' } });
    try {
      expect(fs.statSync(viaConfig.socket).gid).toBe(groupGid('adm'));
    } finally {
      await viaConfig.destroy();
    }
    expect(failedStart(['--group', 'no-such-group-berth'])).toContain('group no-such-group-berth not found');
  });

  test('a burst of 1,000 simultaneous /_ping connections is served in full', async ({ berthd }) => {
    const n = 1000;
    const pid = berthd.proc!.pid!;
    // The burst arrives while the daemon is busy (here: stopped for a moment), so every connection
    // has to wait in the accept queue: with Node's default backlog of 511 the kernel refuses the rest
    // (EAGAIN), with somaxconn (4096 here) they all wait their turn, as with dockerd.
    const script = `
      const http = require('node:http'); const sock = process.argv[1]; const n = Number(process.argv[2]);
      let ok = 0, failed = 0; const errors = {};
      const done = () => { if (ok + failed === n) process.stdout.write(JSON.stringify({ ok, failed, errors })); };
      for (let i = 0; i < n; i++) {
        const req = http.request({ socketPath: sock, path: '/_ping', agent: false, timeout: 60000 }, (res) => { res.resume(); res.on('end', () => { if (res.statusCode === 200) ok++; else failed++; done(); }); });
        req.on('error', (e) => { failed++; errors[e.code || e.message] = (errors[e.code || e.message] || 0) + 1; done(); });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.end();
      }
      process.stderr.write('issued\\n');`;
    process.kill(pid, 'SIGSTOP');
    let resumed = false;
    const resume = () => {
      if (!resumed) process.kill(pid, 'SIGCONT');
      resumed = true;
    };
    try {
      const results = await new Promise<{ ok: number; failed: number; errors: Record<string, number> }>((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', script, berthd.socket, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => {
          if (d.toString().includes('issued')) setTimeout(resume, 200);
        });
        child.once('error', reject);
        child.once('exit', () => resolve(JSON.parse(out) as { ok: number; failed: number; errors: Record<string, number> }));
      });
      expect(results, JSON.stringify(results.errors)).toEqual({ ok: n, failed: 0, errors: {} });
    } finally {
      resume();
    }
  });
});
