/**
 * Network records (the API's view, persisted in networks.json) and the live state of a bridge
 * network on this host: what the manager and the sandboxes share.
 */
import type { EndpointSettings } from '../api/types.js';
import type { AddressPool } from './ipam.js';
import type { Subnet } from './ipnet.js';
import type { AddressPool6, Subnet6 } from './ipnet6.js';
import type { DnsServer } from './dns.js';

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: Array<{ Subnet: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** berthd's own bookkeeping, never shown by the API. */
  Berth?: {
    userSubnet: boolean;
    /** A second network of the same name (CheckDuplicate false, API < 1.44) is kept under its ID. */
    key?: string;
  };
}

/** Live state of a bridge network on this host. */
export interface BridgeNet {
  record: NetworkRecord;
  bridge: string;
  subnet: Subnet;
  gateway: number;
  pool: AddressPool;
  /** True when the user chose the subnet (only then may containers pick their --ip). */
  userSubnet: boolean;
  dns?: DnsServer;
  /** The IPv6 side of a dual-stack network (EnableIPv6 with an IPv6 subnet). */
  v6?: { subnet: Subnet6; gateway: bigint; pool: AddressPool6 };
}

/** Whether an IPAM pool is an IPv6 one. */
export function isIpv6Pool(c: { Subnet?: string; Gateway?: string; IPRange?: string }): boolean {
  return (c.Subnet || c.Gateway || c.IPRange || '').includes(':');
}

export function emptyEndpoint(networkId = ''): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}
