/**
 * The address check of URL sources (against SSRF): a page, a sitemap `<loc>` or a redirect must not make lanying-kb
 * fetch from the machine itself, the local network or a cloud metadata service, and upload what it got into the
 * knowledge base. The check is made on the address each connection really goes to (after DNS), so that a public
 * name that resolves to 127.0.0.1 is refused as well as `http://127.0.0.1/`.
 */
import dns from 'node:dns';
import { isIP, type Socket } from 'node:net';
import type { Agent, Dispatcher, buildConnector } from 'undici';
import ipaddr from 'ipaddr.js';

/** Addresses of cloud metadata services, named as such in messages (they are link-local, CGNAT or ULA anyway). */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, Alibaba ECS (also), OpenStack
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (classic)
  'fd00:ec2::254', // AWS over IPv6
]);

/** How ipaddr.js range names read in a message. */
const RANGE_NAMES: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT (RFC 6598) address',
  private: 'a private (RFC 1918) address',
  uniqueLocal: 'a unique local (IPv6 ULA) address',
  reserved: 'a reserved address',
  benchmarking: 'a benchmarking address',
  teredo: 'a Teredo tunnel address',
  discard: 'a discard-only address',
};

/**
 * Why `address` (an IPv4 or IPv6 literal) may not be fetched from, or undefined for a public unicast address.
 * Refused: loopback, private (RFC 1918), unique local (ULA), CGNAT, link-local, multicast, broadcast, unspecified,
 * reserved and documentation ranges, cloud metadata addresses; IPv4 addresses inside IPv6 (mapped, NAT64, 6to4) are
 * judged by the IPv4 address. Anything that is not an IP address is refused too.
 */
export function blockedAddressReason(address: string): string | undefined {
  const literal = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(literal)) return 'not an IP address';
  let ip = ipaddr.parse(literal);
  if (ip.kind() === 'ipv6') {
    const embedded = embeddedIPv4(ip as ipaddr.IPv6);
    if (embedded) ip = embedded;
  }
  if (METADATA_ADDRESSES.has(ip.toString())) return 'a cloud metadata address';
  const range = ip.range();
  if (range === 'unicast') return undefined;
  return RANGE_NAMES[range] ?? `a special-purpose address (${range})`;
}

/** The IPv4 address an IPv6 address carries: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). */
function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address();
  const range = ip.range();
  const parts = ip.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (range === 'rfc6052' || range === 'rfc6145') return v4(parts[6] as number, parts[7] as number);
  if (range === '6to4') return v4(parts[1] as number, parts[2] as number);
  return undefined;
}

/** A connection was refused because of the address it would go to. */
export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  readonly code = 'ERR_LANYING_BLOCKED_ADDRESS';
  readonly host: string;
  readonly address: string;
  readonly reason: string;
  constructor(host: string, address: string, reason: string) {
    super(host === address ? `${address} is ${reason}` : `${host} resolves to ${address}, ${reason}`);
    this.host = host;
    this.address = address;
    this.reason = reason;
  }
}

/** The BlockedAddressError in `error` or its causes, if any. */
export function findBlockedAddressError(error: unknown): BlockedAddressError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof BlockedAddressError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

type LookupAll = (hostname: string, options: dns.LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

/**
 * A `lookup` for `net.connect` that resolves every address of the name and refuses the name when any of them is
 * blocked (a name that answers with a public and a private address is refused rather than half-trusted).
 */
function checkedLookup(resolve: LookupAll, policy: (address: string) => string | undefined) {
  return (hostname: string, options: dns.LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '');
        return;
      }
      for (const { address } of addresses) {
        const reason = policy(address);
        if (reason) {
          callback(new BlockedAddressError(hostname, address, reason) as NodeJS.ErrnoException, '');
          return;
        }
      }
      const first = addresses[0];
      if (options.all) callback(null, addresses);
      else if (first) callback(null, first.address, first.family);
      else callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
    });
  };
}

const GUARDED = Symbol('lanying-kb.address-guard');

/** Options of {@link createGuardedAgent}. */
export interface GuardedAgentOptions {
  /** Resolves names (for tests). @default dns.lookup */
  lookup?: LookupAll | undefined;
  /** Why an address is refused, or undefined to allow it (for tests). @default blockedAddressReason */
  policy?: ((address: string) => string | undefined) | undefined;
  /** More options of the Agent (timeouts, connections). */
  agent?: Omit<Agent.Options, 'connect'> | undefined;
}

/**
 * An undici Agent whose every connection is checked with {@link blockedAddressReason}: an IP literal before it is
 * tried, a name on all the addresses it resolves to, and the connected socket's remote address once more.
 * `undici` is passed in because it is loaded lazily.
 */
export function createGuardedAgent(undici: { Agent: typeof Agent; buildConnector: typeof buildConnector }, options: GuardedAgentOptions = {}): Dispatcher {
  const resolve = options.lookup ?? (dns.lookup as unknown as LookupAll);
  const policy = options.policy ?? blockedAddressReason;
  const base = undici.buildConnector({ lookup: checkedLookup(resolve, policy) } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (connectOptions, callback) => {
    const host = connectOptions.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const reason = policy(host);
      if (reason) {
        callback(new BlockedAddressError(host, host, reason), null);
        return;
      }
    }
    base(connectOptions, (error, socket) => {
      if (error || !socket) {
        callback(error ?? new Error('connection failed'), null);
        return;
      }
      const remote = (socket as Socket).remoteAddress;
      const reason = remote === undefined ? 'an unknown address' : policy(remote);
      if (reason) {
        socket.destroy();
        callback(new BlockedAddressError(host, remote ?? '?', reason), null);
        return;
      }
      callback(null, socket);
    });
  };
  const agent = new undici.Agent({ ...options.agent, connect });
  Object.defineProperty(agent, GUARDED, { value: true });
  return agent;
}

/** Whether `dispatcher` was made by {@link createGuardedAgent}. */
export function isGuarded(dispatcher: Dispatcher | undefined): boolean {
  return dispatcher !== undefined && (dispatcher as unknown as Record<symbol, unknown>)[GUARDED] === true;
}
