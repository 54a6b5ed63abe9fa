/**
 * Sizes as the docker CLI and daemon print them: go-units' HumanSize (decimal units, four
 * significant digits as Go's "%.4g": "2.153MB", "512B", "1000kB").
 */
const abbrs = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's fmt "%.4g" for the values HumanSize produces (0 <= v < 1000.5). */
function g4(v: number): string {
  if (v === 0) return '0';
  return String(Number(v.toPrecision(4)));
}

/** go-units HumanSize. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < abbrs.length - 1) {
    size /= 1000;
    i++;
  }
  return g4(size) + abbrs[i];
}
