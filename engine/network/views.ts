/** Networks in the API's shapes (list and inspect, with attached containers). */
import { InvalidParameterError } from '../errdefs.js';
import type { Filters } from '../api/filters.js';
import type { ContainerStore } from '../containers/store.js';
import type { NetworkManager } from './manager.js';
import type { NetworkRecord } from './records.js';

type PublicRecord = Omit<NetworkRecord, 'Berth'>;

export interface NetworkJson extends PublicRecord {
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
}

export const networkFilterKeys = ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'];
const BUILTIN = ['bridge', 'host', 'none'];

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
      if (!ep || c.record.hostConfig.NetworkMode === 'host') continue;
      attached[c.id] = {
        Name: c.name,
        EndpointID: ep.EndpointID,
        MacAddress: ep.MacAddress,
        IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '',
        IPv6Address: '',
      };
    }
    const { Berth: _internal, ...pub } = n;
    return {
      Name: pub.Name,
      Id: pub.Id,
      Created: pub.Created,
      Scope: pub.Scope,
      Driver: pub.Driver,
      EnableIPv4: pub.EnableIPv4,
      EnableIPv6: pub.EnableIPv6,
      IPAM: pub.IPAM,
      Internal: pub.Internal,
      Attachable: pub.Attachable,
      Ingress: pub.Ingress,
      ConfigFrom: pub.ConfigFrom,
      ConfigOnly: pub.ConfigOnly,
      Containers: attached,
      Options: pub.Options,
      Labels: pub.Labels,
    };
  }

  list(f: Filters): NetworkJson[] {
    for (const t of f.get('type')) if (t !== 'custom' && t !== 'builtin') throw new InvalidParameterError(`invalid filter: 'type'='${t}'`);
    const dangling = f.bool('dangling');
    return this.networks
      .all()
      .filter((n) => f.matchAny('driver', (v) => v === n.Driver))
      .filter((n) => f.matchAny('name', (v) => n.Name.includes(v)))
      .filter((n) => f.matchAny('id', (v) => n.Id.startsWith(v)))
      .filter((n) => f.matchLabels('label', n.Labels))
      .filter(() => f.matchAny('scope', (v) => v === 'local'))
      .filter((n) => f.matchAny('type', (v) => (v === 'builtin') === BUILTIN.includes(n.Name)))
      .filter((n) => dangling === undefined || (!BUILTIN.includes(n.Name) && this.networks.activeContainers(n.Name).length === 0) === dangling)
      .map((n) => this.inspect(n));
  }
}
