/**
 * Layout checks run in the page: what scrolls sideways, and how far a
 * checkbox's text starts from it. (The e2e project has no DOM types, so the
 * few DOM calls are typed here by hand.)
 */
import type { Locator, Page } from '@playwright/test';

interface Box {
  left: number;
  right: number;
}
interface El {
  tagName: string;
  className: string;
  scrollWidth: number;
  clientWidth: number;
  childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
  closest(sel: string): El | null;
  getBoundingClientRect(): Box;
}
interface Doc {
  scrollingElement: El;
  querySelectorAll(sel: string): ArrayLike<El>;
  createRange(): { selectNodeContents(n: unknown): void; getBoundingClientRect(): Box };
}
type Win = { document: Doc; getComputedStyle(el: El): { overflowX: string } };

/** Elements whose content is wider than their box and that scroll (or the document itself), by tag and class. */
export function sidewaysScrollers(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const w = globalThis as unknown as Win;
    const out: string[] = [];
    const doc = w.document.scrollingElement;
    if (doc.scrollWidth > doc.clientWidth + 1) out.push('document');
    for (const el of Array.from(w.document.querySelectorAll('*'))) {
      const s = w.getComputedStyle(el);
      if ((s.overflowX === 'auto' || s.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) out.push(`${el.tagName.toLowerCase()}.${el.className}`);
    }
    return out;
  });
}

/** Pixels between a checkbox's right edge and the start of its label's text. */
export function labelGap(input: Locator): Promise<number> {
  return input.evaluate((node) => {
    const el = node as unknown as El;
    const w = globalThis as unknown as Win;
    const label = el.closest('label')!;
    const text = Array.from(label.childNodes).find((n) => n.nodeType === 3 && (n.textContent ?? '').trim());
    const range = w.document.createRange();
    range.selectNodeContents(text);
    return range.getBoundingClientRect().left - el.getBoundingClientRect().right;
  });
}
