/** HTTP checks of published ports from the host, with the curl users would run. */
import { execFile } from 'node:child_process';

/** One GET; code is curl's exit status (0: answered). -g so that [v6] URLs are taken literally. */
export function curl(url: string, timeoutSec = 5): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '-g', '-m', String(timeoutSec), url], { encoding: 'utf8' }, (err, stdout) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, body: stdout });
    });
  });
}

/** Retries a GET for about 4 s (a server still starting); the last result. */
export async function waitHttp(url: string): Promise<{ code: number; body: string }> {
  let last = { code: -1, body: '' };
  for (let i = 0; i < 40; i++) {
    last = await curl(url, 2);
    if (last.code === 0) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}
