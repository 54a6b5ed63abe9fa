/** Small inline SVG icons (no icon font: they render the same on every system). */
const PATHS = {
  play: 'M5 3.5v9l8-4.5z',
  stop: 'M4 4h8v8H4z',
  pause: 'M4 3h3v10H4zM9 3h3v10H9z',
  restart: 'M8 2.5a5.5 5.5 0 1 0 5.3 7h-1.6A4 4 0 1 1 8 4a4 4 0 0 1 2.8 1.2L9 7h4.5V2.5l-1.6 1.6A5.5 5.5 0 0 0 8 2.5z',
  trash: 'M6 2h4l.5 1H13v1.5H3V3h2.5zM4 6h8l-.7 8H4.7z',
  folder: 'M1.5 3h4.2l1.5 1.5h7.3v8.5h-13z',
  file: 'M3 1.5h6.5L13 5v9.5H3zM9 2v3.5h3.5',
  symlink: 'M3 1.5h6.5L13 5v9.5H3zM5.5 11.5 10 7M7.5 7H10v2.5',
  other: 'M3 1.5h10v13H3z',
  upload: 'M8 2 4 6h2.5v4h3V6H12zM3 12h10v2H3z',
  download: 'M8 11 4 7h2.5V2h3v5H12zM3 12h10v2H3z',
  plus: 'M7 3h2v4h4v2H9v4H7V9H3V7h4z',
  edit: 'M11 2l3 3-8 8H3v-3zM10 3.5l2.5 2.5',
  run: 'M4 2.5v11l9-5.5z',
  tag: 'M2 2h6l6 6-6 6-6-6zM5 4.2a.9.9 0 1 0 0 1.8.9.9 0 0 0 0-1.8z',
  push: 'M8 2l4 4H9.5v4h-3V6H4zM3 12h10v2H3z',
} as const;

export type IconName = keyof typeof PATHS;

/** Icons drawn as outlines rather than filled shapes. */
const STROKED = new Set<IconName>(['file', 'symlink', 'edit']);

export function Icon({ name, size = 12 }: { name: IconName; size?: number }) {
  const stroked = STROKED.has(name);
  return (
    <svg className="icon-svg" viewBox="0 0 16 16" width={size} height={size} aria-hidden="true" focusable="false" data-icon={name}>
      <path d={PATHS[name]} fill={stroked ? 'none' : 'currentColor'} stroke={stroked ? 'currentColor' : 'none'} strokeWidth={stroked ? 1.3 : 0} strokeLinejoin="round" />
    </svg>
  );
}
