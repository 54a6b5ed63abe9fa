/**
 * The agent channel's vocabulary, shared by the host and the guest agent. One HTTP/2 session runs
 * over the VM's virtio-serial port; every Docker API connection, shell and control call is one
 * HTTP/2 stream. HTTP/2 gives what the Docker API needs across the VM boundary: per-stream flow
 * control (a `docker load` cannot flood the guest), half-close (END_STREAM: `docker run -i`
 * closes stdin and still reads the output), cheap stream setup (no handshake per connection) and
 * many concurrent streams — from nghttp2, built into Node, on both ends.
 *
 * Part 2 (published ports): `tcp:` targets on the connect route, datagram streams for UDP
 * (`datagram`, length-prefixed frames), and the ports line (`ports`): a stream the host opens on
 * which the guest asks it to publish or unpublish host ports (berthd's port-publishing hook).
 */
/** The virtio-serial port's name (the guest opens /dev/virtio-ports/<name>). */
export const AGENT_PORT_NAME = 'org.berth.agent.0';

export const ROUTES = {
  /** Tunnel: request body = bytes to the target, response body = bytes from it. */
  connect: '/v1/connect',
  /** A root shell on a pty: request body = input, response body = output. */
  shell: '/v1/shell',
  shellResize: '/v1/shell/resize',
  /** PUT {unixMs}: set the guest clock. */
  time: '/v1/time',
  /** PUT {search, options}: the host's resolver settings. */
  dns: '/v1/dns',
  /** GET: kernel, uptime, memory, berthd state. */
  info: '/v1/info',
  /** GET ?tail=N: berthd's log inside the guest. */
  engineLog: '/v1/engine-log',
  /** GET: the bind-mount sources of running containers inside shared folders (what the host watches). */
  binds: '/v1/binds',
  /** POST {paths}: host file changes under shared folders, replayed as attribute changes (inotify). */
  fsEvents: '/v1/fs-events',
  /** POST: fstrim the data disk (freed blocks go back to the host's qcow2 file). */
  trim: '/v1/trim',
  /** POST: stop berthd, unmount the data disk, power off. */
  shutdown: '/v1/shutdown',
  /** Datagrams to a `udp:` target: both bodies are frames of [u16 length][payload]. */
  datagram: '/v1/datagram',
  /** The ports line, opened by the host: response body = PortLineRequest lines, request body = PortLineReply lines. */
  ports: '/v1/ports',
} as const;

export const HEADERS = {
  target: 'berth-target',
  shellId: 'berth-shell-id',
  rows: 'berth-rows',
  cols: 'berth-cols',
  error: 'berth-error',
} as const;

/** berthd's socket inside the guest. */
export const GUEST_ENGINE_SOCKET = '/run/berth/docker.sock';

export type Target = { kind: 'unix'; path: string } | { kind: 'tcp' | 'udp'; host: string; port: number };

export function formatTarget(t: Target): string {
  return t.kind === 'unix' ? `unix:${t.path}` : `${t.kind}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

export function parseTarget(s: string): Target {
  if (s.startsWith('unix:/')) return { kind: 'unix', path: s.slice(5) };
  const m = /^(tcp|udp):(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  if (m) {
    const port = Number(m[4]);
    if (port >= 1 && port <= 65535) return { kind: m[1] as 'tcp' | 'udp', host: m[2] ?? m[3]!, port };
  }
  throw new Error(`invalid tunnel target "${s}"`);
}

/** Where berthd in the guest asks the agent to publish ports (BERTH_PORT_PUBLISHER). */
export const GUEST_PORT_PUBLISHER_SOCKET = '/run/berth/port-publisher.sock';

/** A published port as the ports line carries it (berthd's HeldPort). */
export interface LinePort {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerPort: number;
}
export interface PortLineRequest {
  id: number;
  op: 'publish' | 'unpublish';
  container: string;
  ports: LinePort[];
}
export interface PortLineReply {
  id: number;
  /** The host refused a port: the message for the user. */
  unavailable?: string;
  error?: string;
}

/**
 * Windows sized for throughput across the port (Node's default 64 KiB per stream would cap a
 * `docker load` far below what the port carries); flow control still bounds memory per stream.
 */
export const HTTP2_SETTINGS = {
  initialWindowSize: 4 * 1024 * 1024,
  maxFrameSize: 64 * 1024,
  maxConcurrentStreams: 4096,
  maxHeaderListSize: 64 * 1024,
};
export const SESSION_WINDOW = 64 * 1024 * 1024;
/** nghttp2 refuses streams once a session holds more than this (MiB) unsent; sized for many tunnels. */
export const MAX_SESSION_MEMORY_MIB = 256;
