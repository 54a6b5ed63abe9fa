import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JsonLineDecoder, readJsonLines } from './json-lines.js';

describe('JSON lines', () => {
  it('splits values across chunk boundaries, skips blank and broken lines, keeps a last line without newline', () => {
    const got: unknown[] = [];
    const d = new JsonLineDecoder((v) => got.push(v));
    d.push('{"a":1}\n{"b"');
    d.push(':2}\n\n not json \n');
    d.push('{"c":3}');
    expect(got).toEqual([{ a: 1 }, { b: 2 }]);
    d.end();
    expect(got).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it('readJsonLines resolves at the end and rejects with an error thrown by the consumer', async () => {
    const ok = new PassThrough();
    const values: unknown[] = [];
    const reading = readJsonLines(ok, new AbortController().signal, (v) => values.push(v));
    ok.end('{"x":1}\n{"x":2}');
    await reading;
    expect(values).toEqual([{ x: 1 }, { x: 2 }]);

    const bad = new PassThrough();
    const failing = readJsonLines(bad, new AbortController().signal, () => {
      throw new Error('consumer failed');
    });
    bad.write('{"x":1}\n');
    await expect(failing).rejects.toThrow('consumer failed');
  });
});
