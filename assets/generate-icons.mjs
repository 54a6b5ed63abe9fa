#!/usr/bin/env node
// Draws Berth's icons (the same ship-with-containers mark as renderer/public/berth.svg)
// into PNGs: the app icon at every size electron-builder and the window need, and the
// tray icon per engine state (running, stopped, starting, error) at 1x and 2x.
// No downloads, no image libraries: shapes are rasterised with 4x4 supersampling and
// written with zlib. Run: node assets/generate-icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const here = path.dirname(new URL(import.meta.url).pathname);

function crc32(buf) {
  let c;
  const table = crc32.table ?? (crc32.table = Array.from({ length: 256 }, (_, n) => {
    c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  }));
  let crc = 0xffffffff;
  for (const b of buf) crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

// Shapes in a 64x64 design space; each returns true when the point is inside.
const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const polygon = (pts) => (x, y) => {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
};
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16), 255];

/** Layers drawn in order: [shape, rgba]. */
function render(size, layers) {
  const out = Buffer.alloc(size * size * 4);
  const ss = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = ((px + (sx + 0.5) / ss) / size) * 64;
          const y = ((py + (sy + 0.5) / ss) / size) * 64;
          let c = [0, 0, 0, 0];
          for (const [shape, color] of layers) if (shape(x, y)) c = color;
          const al = c[3] / 255;
          r += c[0] * al; g += c[1] * al; b += c[2] * al; a += al;
        }
      }
      const n = ss * ss;
      const o = (py * size + px) * 4;
      out[o] = a ? Math.round(r / a) : 0;
      out[o + 1] = a ? Math.round(g / a) : 0;
      out[o + 2] = a ? Math.round(b / a) : 0;
      out[o + 3] = Math.round((a / n) * 255);
    }
  }
  return out;
}

const mark = (bg, fg, fg2) => [
  [roundRect(0, 0, 64, 64, 14), bg],
  [polygon([[12, 38], [52, 38], [46, 50], [18, 50]]), fg],
  [roundRect(18, 24, 28, 34, 1.5), fg],
  [roundRect(30, 24, 40, 34, 1.5), fg2],
  [roundRect(24, 12, 34, 22, 1.5), fg2],
  [roundRect(44.5, 13, 47.5, 36, 1.5), fg],
];

const appLayers = mark(hex('#1f6feb'), hex('#ffffff'), hex('#cfe1ff'));
fs.mkdirSync(path.join(here, 'icons'), { recursive: true });
for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) {
  fs.writeFileSync(path.join(here, 'icons', `icon-${size}.png`), png(size, render(size, appLayers)));
}
fs.copyFileSync(path.join(here, 'icons', 'icon-1024.png'), path.join(here, 'icons', 'icon.png'));
// Linux packages take a folder of icons named by their size (electron-builder: 256x256.png).
fs.mkdirSync(path.join(here, 'icons', 'linux'), { recursive: true });
for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) fs.copyFileSync(path.join(here, 'icons', `icon-${size}.png`), path.join(here, 'icons', 'linux', `${size}x${size}.png`));

// Tray: the mark in a neutral grey (readable on light and dark panels) with a status dot.
const STATES = { running: '#2da44e', stopped: '#8c959f', starting: '#d4a72c', error: '#e5534b' };
fs.mkdirSync(path.join(here, 'tray'), { recursive: true });
for (const [state, color] of Object.entries(STATES)) {
  const layers = [
    ...mark(hex('#57606a'), hex('#ffffff'), hex('#d0d7de')),
    [circle(50, 50, 15), [0, 0, 0, 0]],
    [circle(50, 50, 12), hex(color)],
  ];
  fs.writeFileSync(path.join(here, 'tray', `tray-${state}.png`), png(16, render(16, layers)));
  fs.writeFileSync(path.join(here, 'tray', `tray-${state}@2x.png`), png(32, render(32, layers)));
}
// macOS menu bar: template images (black and alpha only; the system tints them for light and
// dark bars). A template cannot be coloured, so the state is in the shape: the mark alone
// (running), faded (stopped), with a ring (starting), with a dot (error).
const ink = [0, 0, 0, 255];
const faded = [0, 0, 0, 110];
const clear = [0, 0, 0, 0];
const templateMark = (fg, cut) => [
  [polygon([[6, 40], [58, 40], [50, 56], [14, 56]]), fg],
  [roundRect(14, 24, 28, 37, 2), fg],
  [roundRect(31, 24, 45, 37, 2), fg],
  [roundRect(22, 8, 36, 21, 2), fg],
  ...(cut ? [[circle(50, 50, 16), clear]] : []),
];
const TEMPLATES = {
  running: templateMark(ink, false),
  stopped: templateMark(faded, false),
  starting: [...templateMark(ink, true), [circle(50, 50, 12), ink], [circle(50, 50, 7), clear]],
  error: [...templateMark(ink, true), [circle(50, 50, 12), ink]],
};
for (const [state, layers] of Object.entries(TEMPLATES)) {
  fs.writeFileSync(path.join(here, 'tray', `tray-${state}Template.png`), png(16, render(16, layers)));
  fs.writeFileSync(path.join(here, 'tray', `tray-${state}Template@2x.png`), png(32, render(32, layers)));
}
console.log('icons written to assets/icons, assets/icons/linux and assets/tray');
