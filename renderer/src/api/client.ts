/** The app-wide client: one transport and one typed contract client for every screen. */
import { BerthClient } from '../../../electron/contract/client.js';
import { createTransport, type Transport } from './transport.js';

let transport: Transport | undefined;
let client: BerthClient | undefined;

export function initClient(t: Transport = createTransport()): { transport: Transport; client: BerthClient } {
  transport = t;
  client = new BerthClient(t);
  // A dropped connection fails pending calls and ends streams, so views can show it and retry.
  t.onState((s) => {
    if (s === 'closed') client?.disconnect(t.lastError() ?? 'disconnected from Berth');
  });
  return { transport: t, client };
}

export function api(): BerthClient {
  if (!client) throw new Error('the Berth client is not initialised');
  return client;
}

export function getTransport(): Transport {
  if (!transport) throw new Error('the Berth client is not initialised');
  return transport;
}

/** For tests: use a given client. */
export function setClientForTests(c: BerthClient, t?: Transport): void {
  client = c;
  transport = t;
}
