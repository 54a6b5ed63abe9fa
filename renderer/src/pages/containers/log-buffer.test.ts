import { describe, expect, it } from 'vitest';
import { LogBuffer } from './log-buffer.js';

describe('LogBuffer', () => {
  it('keeps text and line counts, dropping the oldest past the limit (and then forgetting where it starts)', () => {
    const b = new LogBuffer(5);
    b.firstTime = '10.0';
    b.append('a\nb\n');
    b.append('c\nd\n');
    expect(b.lineCount).toBe(4);
    expect(b.append('e\nf\n')).toBe(true);
    expect(b.text()).toBe('c\nd\ne\nf\n');
    expect(b.firstTime).toBeUndefined();
  });
  it('prepends older pages, counting lines at the first instant, and drops the newest past the limit', () => {
    const b = new LogBuffer(6);
    b.append('x\ny\n');
    b.firstTime = '5.000000001';
    b.firstCount = 2;
    expect(b.prepend('v\nw\n', '5.000000001', 2)).toEqual({ added: 2, droppedNewest: false });
    // Same instant as before: the whole page is at that instant.
    expect(b.firstCount).toBe(4);
    expect(b.prepend('t\nu\n', '4.5', 1)).toEqual({ added: 2, droppedNewest: false });
    expect(b.firstCount).toBe(1);
    expect(b.prepend('r\ns\n', '4', 2)).toEqual({ added: 2, droppedNewest: true });
    expect(b.text()).toBe('r\ns\nt\nu\nv\nw\n');
    b.clear();
    expect(b.text()).toBe('');
  });
});
