/**
 * Node.js flags berthd runs with, wherever it is started (the `berthd` executable's shebang,
 * the desktop backend, the benchmarks). A 1 MB young generation instead of V8's default of up
 * to 16 MB: berthd allocates little per request, and the smaller nursery keeps about 6 MB off
 * its idle RSS (measured 75–79 → 69–72 MiB) at the cost of more, shorter scavenges.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
