import { describe, expect, it } from 'vitest';
import { progressBar, progressLine, statusLine, errorLine, auxLine } from './jsonmessage.js';

describe('progress formatting (moby JSONProgress)', () => {
  it('renders the progress bar at the daemon width', () => {
    expect(progressBar(0, 0)).toBe('');
    expect(progressBar(2153000, 2153000)).toBe('[==================================================>]  2.153MB/2.153MB');
    expect(progressBar(0, 5_000_000)).toBe('[>                                                  ]       0B/5MB');
    expect(progressBar(1_000_000, 4_000_000)).toBe('[============>                                      ]      1MB/4MB');
    expect(progressBar(5, 4)).toBe('[==================================================>]       5B');
    expect(progressBar(1234, 0)).toBe(' 1.234kB');
  });

  it('writes JSON lines in moby field order, CRLF-terminated, HTML-escaped like Go', () => {
    expect(statusLine('latest', 'Pulling from library/busybox')).toBe('{"status":"Pulling from library/busybox","id":"latest"}\r\n');
    expect(statusLine(undefined, 'Digest: sha256:ab')).toBe('{"status":"Digest: sha256:ab"}\r\n');
    expect(progressLine('a1b2c3d4e5f6', 'Pulling fs layer')).toBe('{"status":"Pulling fs layer","progressDetail":{},"id":"a1b2c3d4e5f6"}\r\n');
    expect(progressLine('a1b2c3d4e5f6', 'Downloading', { current: 1000, total: 4000 })).toBe(
      '{"status":"Downloading","progressDetail":{"current":1000,"total":4000},"progress":"[============\\u003e                                      ]      1kB/4kB","id":"a1b2c3d4e5f6"}\r\n',
    );
    expect(errorLine('boom <x>')).toBe('{"errorDetail":{"message":"boom \\u003cx\\u003e"},"error":"boom \\u003cx\\u003e"}\r\n');
    expect(auxLine({ Tag: 'v1', Digest: 'sha256:x', Size: 1 })).toBe('{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:x","Size":1}}\r\n');
  });
});
