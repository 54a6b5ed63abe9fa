/** Small inline SVG icons (no icon font: they render the same on every system). */
const PATHS = {
  play: 'M5 3.5v9l8-4.5z',
  stop: 'M4 4h8v8H4z',
  pause: 'M4 3h3v10H4zM9 3h3v10H9z',
  restart: 'M8 2.5a5.5 5.5 0 1 0 5.3 7h-1.6A4 4 0 1 1 8 4a4 4 0 0 1 2.8 1.2L9 7h4.5V2.5l-1.6 1.6A5.5 5.5 0 0 0 8 2.5z',
  trash: 'M6 2h4l.5 1H13v1.5H3V3h2.5zM4 6h8l-.7 8H4.7z',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg className="icon-svg" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} fill="currentColor" />
    </svg>
  );
}
