/**
 * POST /commit: a container's changes as a new image (`docker commit`).
 */
import type { Router } from '../router.js';
import { readJson, sendJson } from '../context.js';
import { boolParam } from '../query.js';
import { InvalidParameterError } from '../../errdefs.js';
import { commitBodyConfig, type CommitOptions } from '../../images/commit.js';
import { parseReference, validateTag, type Reference } from '../../images/reference.js';

/** moby's RepoTagReference: no repo means no tag; a digest cannot be a commit target. */
function commitRef(repo: string | null, tag: string | null): Reference | undefined {
  if (!repo) return undefined;
  const ref = parseReference(repo);
  if (ref.digest !== undefined) throw new InvalidParameterError('cannot import digest reference');
  if (tag) {
    validateTag(tag);
    return ref.withTag(tag);
  }
  return ref.tagged();
}

/** What the commit route needs. */
export interface CommitBackend {
  commit(opts: CommitOptions): Promise<{ id: string }>;
}

export function registerCommitRoute(r: Router, b: CommitBackend): void {
  r.post('/commit', async (ctx) => {
    const q = ctx.query;
    const config = commitBodyConfig(await readJson(ctx));
    const ref = commitRef(q.get('repo'), q.get('tag'));
    const image = await b.commit({
      container: q.get('container') ?? '',
      ...(ref ? { ref } : {}),
      author: q.get('author') ?? '',
      comment: q.get('comment') ?? '',
      changes: q.getAll('changes'),
      ...(config ? { config } : {}),
      // Only an explicit false turns pausing off (moby: Has("pause") && !BoolValue).
      pause: !(q.has('pause') && !boolParam(q, 'pause')),
    });
    sendJson(ctx, 201, { Id: image.id });
  });
}
