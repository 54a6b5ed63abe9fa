/**
 * Route table over find-my-way. Routes are registered without the /vX.Y
 * prefix; the server strips and checks it before lookup.
 */
import FindMyWay, { type HTTPVersion } from 'find-my-way';
import type { Handler } from './context.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
}

export class Router {
  private readonly fmw = FindMyWay<HTTPVersion.V1>({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1024 });

  on(method: Method, path: string, handler: Handler): this {
    this.fmw.on(method, path, () => undefined, { handler });
    return this;
  }

  get(path: string, handler: Handler): this {
    return this.on('GET', path, handler);
  }
  post(path: string, handler: Handler): this {
    return this.on('POST', path, handler);
  }
  put(path: string, handler: Handler): this {
    return this.on('PUT', path, handler);
  }
  delete(path: string, handler: Handler): this {
    return this.on('DELETE', path, handler);
  }
  head(path: string, handler: Handler): this {
    return this.on('HEAD', path, handler);
  }

  find(method: string, path: string): RouteMatch | undefined {
    const found = this.fmw.find(method as Method, path);
    if (!found) return undefined;
    const store = found.store as { handler: Handler } | undefined;
    if (!store) return undefined;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(found.params)) if (v !== undefined) params[k] = v;
    return { handler: store.handler, params };
  }
}
