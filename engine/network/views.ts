/** Networks in the API's shapes (list and inspect, with attached containers). */
import type { Filters } from '../api/query.js';
import type { ContainerStore } from '../containers/store.js';
import type { NetworkManager, NetworkRecord } from './manager.js';

export interface NetworkJson extends NetworkRecord {
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
}

export class NetworkViews {
  constructor(
    private readonly networks: NetworkManager,
    private readonly containers: ContainerStore,
  ) {}

  inspect(n: NetworkRecord): NetworkJson {
    const attached: NetworkJson['Containers'] = {};
    for (const c of this.containers.all()) {
      if (!c.isRunning()) continue;
      const ep = c.record.networks[n.Name];
      if (!ep) continue;
      attached[c.id] = {
        Name: c.name,
        EndpointID: ep.EndpointID,
        MacAddress: ep.MacAddress,
        IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '',
        IPv6Address: '',
      };
    }
    return { ...n, Containers: attached };
  }

  list(f: Filters): NetworkJson[] {
    return this.networks
      .all()
      .filter((n) => f.matchAny('driver', (v) => v === n.Driver))
      .filter((n) => f.matchAny('name', (v) => n.Name.includes(v)))
      .filter((n) => f.matchAny('id', (v) => n.Id.startsWith(v)))
      .filter((n) => f.matchLabels('label', n.Labels))
      .filter(() => f.matchAny('scope', (v) => v === 'local'))
      .filter((n) => f.matchAny('type', (v) => (v === 'builtin') === ['bridge', 'host', 'none'].includes(n.Name)))
      .map((n) => this.inspect(n));
  }
}
