import { describe, expect, it } from 'vitest';
import { humanSize } from './units.js';

describe('humanSize (go-units HumanSize)', () => {
  it('uses decimal units and four significant digits', () => {
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(512)).toBe('512B');
    expect(humanSize(1000)).toBe('1kB');
    expect(humanSize(2153000)).toBe('2.153MB');
    expect(humanSize(1234567)).toBe('1.235MB');
    expect(humanSize(999_999)).toBe('1000kB');
    expect(humanSize(32_654)).toBe('32.65kB');
    expect(humanSize(1.5e9)).toBe('1.5GB');
  });
});
