/**
 * Registry authentication and endpoints through the stock docker CLI:
 * htpasswd Basic auth, the Bearer token flow against a token server in this
 * suite (real JWTs the registry verifies), identity tokens from `docker
 * login`, X-Registry-Auth on the raw API, POST /auth, registry-mirrors (in
 * order, with fallback, reloaded on SIGHUP), HTTPS registries and search.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, expect, uniq } from '../support/fixtures.js';
import { Berthd, eventually } from '../support/berthd.js';
import { Registry, TokenServer, FaultProxy, freePort, rawApi, registryAuth } from '../support/registry.js';

const lines = (s: string) => s.split('\n').filter(Boolean);

let basic: Registry;
let tokens: TokenServer;
let tokenReg: Registry;

test.beforeAll(async () => {
  basic = await Registry.start({ htpasswd: { alice: 'wonderland' } });
  tokens = new TokenServer({ bob: 'builder' });
  await tokens.start();
  tokenReg = await Registry.start({ token: tokens });
});
test.afterAll(async () => {
  await basic?.stop();
  await tokenReg?.stop();
  await tokens?.stop();
});

/** Everything under dir, as text, for "the daemon stored no secret" checks. */
function grepTree(dir: string, needle: string): string[] {
  try {
    return execFileSync('grep', ['-rl', '--binary-files=text', needle, dir], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

test('htpasswd registry: anonymous access fails, login pushes and pulls, logout locks out again', async ({ freshBerthd: d }) => {
  const ref = `${basic.host}/${uniq('basic')}:1`;
  await d.dockerOk(['tag', 'busybox', ref]);
  const anonPush = await d.docker(['push', ref]);
  expect(anonPush.code).toBe(1);
  expect(lines(anonPush.stdout)[0]).toBe(`The push refers to repository [${ref.slice(0, ref.lastIndexOf(':'))}]`);
  expect(anonPush.stderr.trim()).toBe('no basic auth credentials');

  const wrong = await d.docker(['login', '-u', 'alice', '--password-stdin', basic.host], { input: 'not-it\n' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toContain(`login attempt to http://${basic.host}/v2/ failed with status: 401 Unauthorized`);

  const login = await d.docker(['login', '-u', 'alice', '--password-stdin', basic.host], { input: 'wonderland\n' });
  expect(login.code).toBe(0);
  expect(login.stdout).toContain('Login Succeeded');
  await d.dockerOk(['push', ref]);
  await d.dockerOk(['rmi', ref]);
  await d.dockerOk(['pull', ref]);
  expect(await d.dockerOk(['run', '--rm', ref, 'echo', 'ok'])).toBe('ok\n');

  await d.dockerOk(['logout', basic.host]);
  await d.dockerOk(['rmi', ref]);
  const anonPull = await d.docker(['pull', ref]);
  expect(anonPull.code).toBe(1);
  expect(anonPull.stderr.trim()).toBe(`Error response from daemon: Head "http://${ref.replace(/:1$/, '').replace(basic.host, basic.host + '/v2')}/manifests/1": no basic auth credentials`);

  // berthd keeps no credential: not in its state, not in its log.
  expect(grepTree(d.dataRoot, 'wonderland')).toEqual([]);
  expect(d.log).not.toContain('wonderland');
  expect(d.log).not.toContain(Buffer.from('alice:wonderland').toString('base64'));
});

test('token registry: anonymous pulls of public repositories, denied private ones, login with identity token', async ({ freshBerthd: d }) => {
  const pub = `${tokenReg.host}/public/${uniq('tok')}:1`;
  const priv = `${tokenReg.host}/private/${uniq('tok')}:1`;
  await d.dockerOk(['tag', 'busybox', pub]);
  await d.dockerOk(['tag', 'busybox', priv]);

  const anonPush = await d.docker(['push', pub]);
  expect(anonPush.code).toBe(1);
  expect(anonPush.stderr.trim()).toBe('denied: requested access to the resource is denied');

  const wrong = await d.docker(['login', '-u', 'bob', '--password-stdin', tokenReg.host], { input: 'nope\n' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toContain(`Get "http://${tokenReg.host}/v2/": unauthorized: incorrect username or password`);

  tokens.requests.length = 0;
  const login = await d.docker(['login', '-u', 'bob', '--password-stdin', tokenReg.host], { input: 'builder\n' });
  expect(login.code).toBe(0);
  expect(login.stdout).toContain('Login Succeeded');
  // The token server issued a refresh token: the CLI keeps it instead of the password.
  const cfg = JSON.parse(fs.readFileSync(path.join(d.dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { identitytoken?: string; auth?: string }> };
  expect(cfg.auths[tokenReg.host]?.identitytoken).toMatch(/^[a-f0-9]{32}$/);
  expect(tokens.requests[0]).toMatchObject({ method: 'GET', account: 'bob', service: tokens.service, offline: true, scopes: [] });

  tokens.requests.length = 0;
  await d.dockerOk(['push', pub]);
  await d.dockerOk(['push', priv]);
  // Pushes used the identity token (OAuth refresh grant) with push,pull scopes.
  expect(tokens.requests.length).toBeGreaterThan(0);
  expect(tokens.requests.every((r) => r.method === 'POST' && r.grant === 'refresh_token' && r.account === 'bob')).toBe(true);
  expect(tokens.requests.map((r) => r.scopes.join(' '))).toContain(`repository:${priv.slice(tokenReg.host.length + 1, priv.lastIndexOf(':'))}:push,pull`);

  await d.dockerOk(['tag', 'busybox', `${tokenReg.host}/readonly/x:1`]);
  const ro = await d.docker(['push', `${tokenReg.host}/readonly/x:1`]);
  expect(ro.code).toBe(1);
  expect(ro.stderr.trim()).toBe('denied: requested access to the resource is denied');

  await d.dockerOk(['logout', tokenReg.host]);
  await d.dockerOk(['rmi', pub, priv]);
  await d.dockerOk(['rmi', 'busybox']);
  // Anonymous: public pulls work, private ones are denied with Docker's message.
  await d.dockerOk(['pull', pub]);
  expect(await d.dockerOk(['run', '--rm', pub, 'echo', 'public'])).toBe('public\n');
  const anon = await d.docker(['pull', priv]);
  expect(anon.code).toBe(1);
  const privName = priv.slice(0, priv.lastIndexOf(':'));
  expect(anon.stderr.trim()).toBe(`Error response from daemon: pull access denied for ${privName}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`);
  const run = await d.docker(['run', '--rm', priv]);
  expect(run.code).toBe(125);
  expect(run.stderr).toContain(`Unable to find image '${priv}' locally`);
  expect(run.stderr).toContain(`pull access denied for ${privName}`);

  expect(grepTree(d.dataRoot, 'builder')).toEqual([]);
  expect(d.log).not.toContain('builder');
});

test('tokens are cached per scope; X-Registry-Auth carries credentials (base64url JSON, e30= anonymous)', async ({ berthd: d }) => {
  const repo = `private/${uniq('cache')}`;
  const ref = `${tokenReg.host}/${repo}:1`;
  const creds = registryAuth({ username: 'bob', password: 'builder', serveraddress: tokenReg.host });
  await d.dockerOk(['tag', 'busybox', ref]);
  const push = await rawApi(d, 'POST', `/v1.51/images/${ref.slice(0, ref.lastIndexOf(':'))}/push?tag=1`, undefined, { 'X-Registry-Auth': creds });
  expect(push.status).toBe(200);
  expect(push.body.toString()).toMatch(/"status":"1: digest: sha256:[a-f0-9]{64} size: \d+"/);

  tokens.requests.length = 0;
  const pull = (auth: string) => rawApi(d, 'POST', `/v1.51/images/create?fromImage=${encodeURIComponent(ref.slice(0, ref.lastIndexOf(':')))}&tag=1`, undefined, { 'X-Registry-Auth': auth });
  for (let i = 0; i < 3; i++) {
    const r = await pull(creds);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toContain('"status":"Status: Image is up to date for');
  }
  const pulls = tokens.requests.filter((r) => r.scopes.includes(`repository:${repo}:pull`));
  expect(pulls).toHaveLength(1);
  expect(pulls[0]).toMatchObject({ account: 'bob', method: 'GET' });

  // Anonymous (e30= is "{}"): a 404 before any output, so the body is a plain error.
  const anon = await pull('e30=');
  expect(anon.status).toBe(404);
  expect(JSON.parse(anon.body.toString()).message).toContain('pull access denied');
  // A malformed header is ignored, as dockerd does for pulls.
  const junk = await pull('%%%not-base64');
  expect(junk.status).toBe(404);
});

test('POST /auth answers Docker JSON; credentials are checked against the registry', async ({ berthd: d }) => {
  const ok = await rawApi(d, 'POST', '/v1.51/auth', JSON.stringify({ username: 'alice', password: 'wonderland', serveraddress: `http://${basic.host}` }), { 'Content-Type': 'application/json' });
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.body.toString())).toEqual({ Status: 'Login Succeeded', IdentityToken: '' });
  const bad = await rawApi(d, 'POST', '/v1.51/auth', JSON.stringify({ username: 'bob', password: 'wrong', serveraddress: tokenReg.host }), { 'Content-Type': 'application/json' });
  expect(bad.status).toBe(401);
  expect(JSON.parse(bad.body.toString()).message).toBe(`Get "http://${tokenReg.host}/v2/": unauthorized: incorrect username or password`);
  const tok = await rawApi(d, 'POST', '/v1.51/auth', JSON.stringify({ Username: 'bob', Password: 'builder', ServerAddress: tokenReg.host }), { 'Content-Type': 'application/json' });
  expect(tok.status).toBe(200);
  expect(JSON.parse(tok.body.toString()).IdentityToken).toMatch(/^[a-f0-9]{32}$/);
  const down = await rawApi(d, 'POST', '/v1.51/auth', JSON.stringify({ username: 'a', password: 'b', serveraddress: `127.0.0.1:${await freePort()}` }), { 'Content-Type': 'application/json' });
  expect(down.status).toBe(500);
  expect(JSON.parse(down.body.toString()).message).toMatch(/^Get "http:\/\/127\.0\.0\.1:\d+\/v2\/": dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/);
  const garbage = await rawApi(d, 'POST', '/v1.51/auth', '{"username":', { 'Content-Type': 'application/json' });
  expect(garbage.status).toBe(400);
  // The daemon is fine.
  expect((await d.docker(['version'])).code).toBe(0);
});

test('registry-mirrors serve Docker Hub names in order, skipping a dead mirror; SIGHUP reloads them', async () => {
  const open = await Registry.start();
  const other = await Registry.start();
  const dead = await freePort();
  const d = await Berthd.start({ config: { 'registry-mirrors': [`http://127.0.0.1:${dead}`, open.url] } });
  try {
    const name = uniq('mirrored');
    // Put library/<name> on the mirror (pushed there under its own name).
    await d.dockerOk(['tag', 'busybox', `${open.host}/library/${name}:1`]);
    await d.dockerOk(['push', `${open.host}/library/${name}:1`]);
    await d.dockerOk(['rmi', `${open.host}/library/${name}:1`]);
    const out = lines(await d.dockerOk(['pull', `${name}:1`]));
    expect(out[0]).toBe(`1: Pulling from library/${name}`);
    expect(out.slice(-2)).toEqual([`Status: Downloaded newer image for ${name}:1`, `docker.io/library/${name}:1`]);
    const info = JSON.parse(await d.dockerOk(['image', 'inspect', `${name}:1`]))[0] as { RepoTags: string[]; RepoDigests: string[] };
    expect(info.RepoTags).toContain(`${name}:1`);
    expect(info.RepoDigests[0]).toMatch(new RegExp(`^${name}@sha256:[a-f0-9]{64}$`));

    // Reload with another mirror that has a different image under the same name.
    await d.dockerOk(['tag', 'busybox', `${other.host}/library/${name}:2`]);
    await d.dockerOk(['push', `${other.host}/library/${name}:2`]);
    fs.writeFileSync(d.configFile, JSON.stringify({ 'registry-mirrors': [other.url] }));
    d.proc!.kill('SIGHUP');
    await eventually(async () => (await d.docker(['pull', `${name}:2`])).code === 0, 10_000, 200);
    expect(await d.dockerOk(['run', '--rm', `${name}:2`, 'echo', 'from the reloaded mirror'])).toBe('from the reloaded mirror\n');
  } finally {
    await d.destroy();
    await open.stop();
    await other.stop();
  }
});

test('HTTPS registry with a self-signed certificate on loopback (insecure by default) and docker search', async ({ berthd: d }) => {
  const secure = await Registry.start({ tls: true });
  try {
    const ref = `${secure.host}/${uniq('tls')}:1`;
    await d.dockerOk(['tag', 'busybox', ref]);
    await d.dockerOk(['push', ref]);
    await d.dockerOk(['rmi', ref]);
    await d.dockerOk(['pull', ref]);
    expect(await d.dockerOk(['run', '--rm', ref, 'echo', 'over tls'])).toBe('over tls\n');
  } finally {
    await secure.stop();
  }
  // docker search speaks the v1 search API (served here from an open registry's catalog).
  const open = await Registry.start();
  const proxy = new FaultProxy(open.url);
  await proxy.start();
  try {
    for (const n of ['library/searchme', 'team/searchme-too', 'team/other']) {
      await d.dockerOk(['tag', 'busybox', `${open.host}/${n}:1`]);
      await d.dockerOk(['push', `${open.host}/${n}:1`]);
    }
    proxy.descriptions.set('team/searchme-too', 'second result');
    const out = lines(await d.dockerOk(['search', '--format', '{{.Name}}|{{.Description}}|{{.IsOfficial}}', `${proxy.host}/searchme`]));
    expect(out).toEqual(['library/searchme||[OK]', 'team/searchme-too|second result|']);
    const limited = lines(await d.dockerOk(['search', '--limit', '1', '--format', '{{.Name}}', `${proxy.host}/searchme`]));
    expect(limited).toEqual(['library/searchme']);
    const official = lines(await d.dockerOk(['search', '--filter', 'is-official=true', '--format', '{{.Name}}', `${proxy.host}/searchme`]));
    expect(official).toEqual(['library/searchme']);
    const raw = await rawApi(d, 'GET', `/v1.51/images/search?term=${encodeURIComponent(`${proxy.host}/other`)}`);
    expect(JSON.parse(raw.body.toString())).toEqual([{ star_count: 'team/other'.length, is_official: false, name: 'team/other', is_automated: false, description: '' }]);
    const bad = await d.docker(['search', '--limit', '101', `${proxy.host}/x`]);
    expect(bad.stderr).toContain('limit 101 is outside the range of [1, 100]');
    const scheme = await rawApi(d, 'GET', `/v1.51/images/search?term=${encodeURIComponent('http://x/y')}`);
    expect(scheme.status).toBe(400);
  } finally {
    await proxy.stop();
    await open.stop();
  }
});

test('a registrytoken in X-Registry-Auth is sent as the bearer token', async ({ berthd: d }) => {
  const repo = `private/${uniq('regtoken')}`;
  const ref = `${tokenReg.host}/${repo}`;
  await d.dockerOk(['tag', 'busybox', `${ref}:1`]);
  const push = await rawApi(d, 'POST', `/v1.51/images/${ref}/push?tag=1`, undefined, { 'X-Registry-Auth': registryAuth({ username: 'bob', password: 'builder' }) });
  expect(push.body.toString()).toContain('1: digest: sha256:');
  await d.dockerOk(['rmi', `${ref}:1`]);
  // A token obtained elsewhere (as `docker login` helpers do), scoped to pull this repository.
  const tokenRes = await fetch(`${tokens.url}/token?service=${tokens.service}&scope=repository:${repo}:pull`, { headers: { authorization: 'Basic ' + Buffer.from('bob:builder').toString('base64') } });
  const { token } = (await tokenRes.json()) as { token: string };
  tokens.requests.length = 0;
  const pull = await rawApi(d, 'POST', `/v1.51/images/create?fromImage=${encodeURIComponent(ref)}&tag=1`, undefined, { 'X-Registry-Auth': registryAuth({ registrytoken: token }) });
  expect(pull.status).toBe(200);
  expect(pull.body.toString()).toContain(`"status":"Status: Downloaded newer image for ${ref}:1"`);
  // berthd asked the token server for nothing.
  expect(tokens.requests).toEqual([]);
});
