import { defineConfig } from 'vitest/config';

// Unit and component tests live next to the code they test.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['engine/**/*.test.ts', 'electron/**/*.test.ts', 'vm/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
        },
      },
      {
        esbuild: { jsx: 'automatic' },
        test: {
          name: 'renderer',
          include: ['renderer/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
        },
      },
    ],
  },
});
