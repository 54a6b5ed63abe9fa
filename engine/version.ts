/**
 * berthd's versions, in one place: its own release, the Docker Engine release whose API it
 * speaks (what `docker version` and /info report as the server version), and the API range.
 */
export const BERTH_VERSION = '0.1.0';
/** The Docker Engine release berthd is compatible with (clients compare against it). */
export const ENGINE_VERSION = '28.5.0';
export const API_VERSION = '1.51';
export const MIN_API_VERSION = '1.24';
