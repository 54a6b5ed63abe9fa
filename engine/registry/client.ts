/**
 * One repository on a registry, spoken to through the OCI distribution API:
 * manifests (HEAD/GET/PUT with digest checks and the 4 MB cap), tags,
 * blobs (stat, ranged GET, cross-repository mount, monolithic and chunked
 * uploads).
 */
import type { Readable } from 'node:stream';
import { sha256Digest } from '../images/blobs.js';
import { InvalidParameterError } from '../errdefs.js';
import { MANIFEST_ACCEPT, MANIFEST_LIMIT } from './manifest.js';
import { RegistrySession } from './session.js';
import { discard, header, readBody, type HttpResponse } from './transport.js';
import { DoNotRetryError } from './errors.js';
import type { BlobSource } from './download.js';

export interface FetchedManifest {
  raw: Buffer;
  mediaType: string | undefined;
  digest: string;
}

export class ManifestTooLargeError extends InvalidParameterError {}

function manifestTooLarge(ref: string): ManifestTooLargeError {
  return new ManifestTooLargeError(`manifest ${ref} is larger than the ${MANIFEST_LIMIT / (1024 * 1024)} MiB limit`);
}

export class Repository implements BlobSource {
  constructor(
    readonly session: RegistrySession,
    /** Path within the registry, e.g. library/busybox. */
    readonly path: string,
  ) {}

  private p(suffix: string): string {
    return `/v2/${this.path}/${suffix}`;
  }

  private async readManifestBody(res: HttpResponse, ref: string): Promise<Buffer> {
    const len = Number(header(res, 'content-length'));
    if (Number.isFinite(len) && len > MANIFEST_LIMIT) {
      res.body.destroy();
      throw manifestTooLarge(ref);
    }
    return readBody(res.body, MANIFEST_LIMIT, () => manifestTooLarge(ref));
  }

  /**
   * Resolves a tag or digest to a manifest, the way dockerd does: HEAD for
   * the digest (GET when the registry will not say), then GET by digest,
   * checking the bytes against the digest.
   */
  async manifest(reference: string, signal: AbortSignal | undefined): Promise<FetchedManifest> {
    const accept = { accept: MANIFEST_ACCEPT };
    let digest: string | undefined;
    if (reference.startsWith('sha256:')) {
      digest = reference;
    } else {
      const head = await this.session.send('HEAD', this.p(`manifests/${reference}`), { headers: accept, signal });
      await discard(head);
      const hd = RegistrySession.digestOf(head);
      if (head.status >= 200 && head.status < 400 && hd && /^sha256:[a-f0-9]{64}$/.test(hd)) {
        const size = Number(header(head, 'content-length'));
        if (Number.isFinite(size) && size > MANIFEST_LIMIT) throw manifestTooLarge(reference);
        digest = hd;
      } else {
        // No usable HEAD answer: GET gives the manifest, or the error details.
        const res = await this.session.send('GET', this.p(`manifests/${reference}`), { headers: accept, signal });
        if (res.status < 200 || res.status >= 300) await this.session.fail(res);
        const raw = await this.readManifestBody(res, reference);
        const computed = sha256Digest(raw);
        const claimed = RegistrySession.digestOf(res);
        if (claimed && claimed.startsWith('sha256:') && claimed !== computed) throw new InvalidParameterError(`manifest verification failed for digest ${claimed}`);
        return { raw, mediaType: header(res, 'content-type'), digest: computed };
      }
    }
    const res = await this.session.send('GET', this.p(`manifests/${digest}`), { headers: accept, signal });
    if (res.status < 200 || res.status >= 300) await this.session.fail(res);
    const raw = await this.readManifestBody(res, digest);
    if (sha256Digest(raw) !== digest) throw new InvalidParameterError(`manifest verification failed for digest ${digest}`);
    return { raw, mediaType: header(res, 'content-type'), digest };
  }

  /** All tags, following Link pagination. */
  async tags(signal: AbortSignal | undefined): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = this.p('tags/list');
    for (let page = 0; next && page < 1000; page++) {
      const res = await this.session.send('GET', next, { signal });
      if (res.status !== 200) await this.session.fail(res);
      const body = await readBody(res.body, 16 * 1024 * 1024, () => new Error('tag list is too large'));
      const json = JSON.parse(body.toString('utf8')) as { tags?: string[] | null };
      out.push(...(json.tags ?? []));
      const link = header(res, 'link');
      const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      next = m ? new URL(m[1]!, this.session.base).toString() : undefined;
    }
    return out;
  }

  /** A small blob (an image config) read whole; the caller checks the digest. */
  async blob(digest: string, limit: number, signal: AbortSignal | undefined): Promise<Buffer> {
    const res = await this.session.send('GET', this.p(`blobs/${digest}`), { signal });
    if (res.status !== 200) await this.session.fail(res);
    return readBody(res.body, limit, () => new DoNotRetryError(new InvalidParameterError(`blob ${digest} is larger than ${limit} bytes`)));
  }

  /** BlobSource: the blob from offset on. */
  async open(digest: string, offset: number, signal: AbortSignal): Promise<{ body: Readable; partial: boolean }> {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const res = await this.session.send('GET', this.p(`blobs/${digest}`), { headers, signal });
    if (res.status === 206 && offset > 0) {
      const cr = header(res, 'content-range');
      const m = cr ? /^bytes (\d+)-/.exec(cr) : null;
      if (!m || Number(m[1]) !== offset) {
        res.body.destroy();
        throw new Error(`registry answered a range request for ${digest} with the wrong range (${cr ?? 'none'})`);
      }
      return { body: res.body, partial: true };
    }
    if (res.status !== 200) await this.session.fail(res);
    return { body: res.body, partial: false };
  }

  /** The blob's size if the repository has it. */
  async stat(digest: string, signal: AbortSignal | undefined): Promise<number | undefined> {
    const res = await this.session.send('HEAD', this.p(`blobs/${digest}`), { signal });
    await discard(res);
    if (res.status === 200) return Number(header(res, 'content-length') ?? 0);
    if (res.status === 404) return undefined;
    // HEAD has no body: get the error details with GET-less wording.
    return this.session.fail(res);
  }

  private location(res: HttpResponse): string {
    const loc = header(res, 'location');
    if (!loc) throw new Error('registry did not return an upload location');
    return new URL(loc, this.session.base + '/').toString();
  }

  /**
   * Starts an upload; with `from`, asks the registry to mount the blob from
   * another repository instead (201 = mounted, no upload needed).
   */
  async startUpload(signal: AbortSignal | undefined, mount?: { digest: string; from: string }): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const q = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
    const scopes = mount ? [`repository:${mount.from}:pull`] : [];
    const res = await this.session.send('POST', this.p(`blobs/uploads/${q}`), { signal, scopes, headers: { 'content-length': '0' } });
    if (res.status === 201 && mount) {
      await discard(res);
      return { mounted: true };
    }
    if (res.status !== 202) await this.session.fail(res);
    await discard(res);
    return { mounted: false, location: this.location(res) };
  }

  private withDigest(location: string, digest: string): string {
    const u = new URL(location);
    u.searchParams.set('digest', digest);
    return u.toString();
  }

  /** Monolithic upload: the whole blob in one PUT. */
  async putBlob(location: string, digest: string, body: Readable | Buffer, size: number, signal: AbortSignal | undefined): Promise<void> {
    const res = await this.session.send('PUT', this.withDigest(location, digest), {
      body,
      signal,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
    if (res.status !== 201) await this.session.fail(res);
    await discard(res);
  }

  /** Chunked upload: streams a body of unknown length with PATCH; returns the next location. */
  async patchBlob(location: string, body: Readable, signal: AbortSignal | undefined): Promise<string> {
    const res = await this.session.send('PATCH', location, { body, signal, headers: { 'content-type': 'application/octet-stream' } });
    if (res.status !== 202) await this.session.fail(res);
    await discard(res);
    return this.location(res);
  }

  /** Completes a chunked upload. */
  async commitUpload(location: string, digest: string, signal: AbortSignal | undefined): Promise<void> {
    const res = await this.session.send('PUT', this.withDigest(location, digest), { signal, headers: { 'content-length': '0' } });
    if (res.status !== 201) await this.session.fail(res);
    await discard(res);
  }

  /** Best-effort cancellation of an abandoned upload. */
  async cancelUpload(location: string): Promise<void> {
    try {
      const res = await this.session.send('DELETE', location);
      await discard(res);
    } catch {
      /* the registry expires it */
    }
  }

  async putManifest(reference: string, raw: Buffer, mediaType: string, signal: AbortSignal | undefined): Promise<string> {
    const res = await this.session.send('PUT', this.p(`manifests/${reference}`), { body: raw, signal, headers: { 'content-type': mediaType } });
    if (res.status !== 201 && res.status !== 200) await this.session.fail(res);
    await discard(res);
    return RegistrySession.digestOf(res) ?? sha256Digest(raw);
  }
}
