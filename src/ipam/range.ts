// host-local's address choice, pure: which addresses of a subnet may be handed out (its lease
// range, never the network address, the IPv4 broadcast or the gateway), whether a requested
// address is one of them, and the next free one after the last handed out.
import { ConflictError, UsageError } from "../errors";
import {
	contains,
	formatAddress,
	formatSubnet,
	lastHostAddress,
	parseAddress,
	parseSubnet,
	type Subnet,
} from "../ip/cidr";
import type { SubnetDef } from "../netconf/schema";

export interface Pool {
	subnet: Subnet;
	/** The subnet in canonical text, the key leases are grouped by. */
	text: string;
	/** First and last address that may be handed out (both inclusive). */
	start: bigint;
	end: bigint;
	gateway?: bigint;
}

// Math.min/max throw on BigInt.
function bigMax(a: bigint, b: bigint): bigint {
	if (a > b) return a;
	return b;
}
function bigMin(a: bigint, b: bigint): bigint {
	if (a < b) return a;
	return b;
}

export function addressValue(ip: string): bigint {
	return parseAddress(ip).value;
}

/**
 * The addresses of one subnet entry that may be leased: the lease range if any, clamped to the
 * subnet's hosts. Like podman's IPAM, the first address (network / subnet-router anycast) is
 * never used, nor the IPv4 broadcast; /31 and /32 (RFC 3021) and /127, /128 use every address.
 */
export function poolOf(entry: SubnetDef): Pool {
	const subnet = parseSubnet(entry.subnet);
	const max = subnet.family === 4 ? 32 : 128;
	const pointToPoint = subnet.prefixLen >= max - 1;
	const lowest = pointToPoint ? subnet.base : subnet.base + 1n;
	const highest = addressValue(lastHostAddress(subnet));
	const from = entry.lease_range?.start_ip ? addressValue(entry.lease_range.start_ip) : lowest;
	const to = entry.lease_range?.end_ip ? addressValue(entry.lease_range.end_ip) : highest;
	return {
		subnet,
		text: formatSubnet(subnet),
		start: bigMax(from, lowest),
		end: bigMin(to, highest),
		gateway: entry.gateway ? addressValue(entry.gateway) : undefined,
	};
}

/**
 * Refuses a requested address the subnet cannot give to a container: its network address, its
 * IPv4 broadcast, its gateway. An address outside the lease range is allowed (podman allows it:
 * the range only bounds the automatic choice).
 */
export function checkStaticAddress(pool: Pool, ip: string, network: string): void {
	const v = addressValue(ip);
	const { subnet } = pool;
	const max = subnet.family === 4 ? 32 : 128;
	if (subnet.prefixLen < max - 1) {
		if (v === subnet.base) {
			throw new UsageError(`requested static ip ${ip} is the network address of ${pool.text}`);
		}
		// lastHostAddress stops right before the IPv4 broadcast
		if (subnet.family === 4 && v === addressValue(lastHostAddress(subnet)) + 1n) {
			throw new UsageError(`requested static ip ${ip} is the broadcast address of ${pool.text}`);
		}
	}
	if (v === pool.gateway) {
		throw new UsageError(`requested static ip ${ip} is the gateway of network ${network}`);
	}
}

/** Whether `ip` lies in the pool's subnet. */
export function inSubnet(pool: Pool, ip: string): boolean {
	return contains(pool.subnet, ip);
}

/** The addresses leased in one subnet, as the allocator reads them. */
export interface LeaseIndex {
	/** Leased addresses from `v` upward, in ascending order (read lazily: the caller may stop). */
	from(v: bigint): Iterable<bigint>;
}

/** A LeaseIndex over addresses in memory. */
export function leaseIndexOf(leased: Iterable<bigint>): LeaseIndex {
	const sorted = [...leased].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
	return { from: (v) => sorted.filter((x) => x >= v) };
}

/**
 * The first address in [a, b] that is neither leased nor the gateway, or undefined. It steps
 * through the leased addresses from `a` and stops at the first gap, so its cost is the number of
 * consecutive leases there, whatever the size of the range.
 */
function firstFree(pool: Pool, index: LeaseIndex, a: bigint, b: bigint): bigint | undefined {
	let c = a;
	if (c === pool.gateway) c++;
	for (const v of index.from(a)) {
		if (c > b || v > c) break;
		if (v === c) {
			c++;
			if (c === pool.gateway) c++;
		}
	}
	return c <= b ? c : undefined;
}

/**
 * host-local's round robin: the first address after `last` (the previous automatic choice) that
 * is neither leased nor the gateway, wrapping from the range's end to its start; from the start
 * when there is no `last` or it lies outside the range. Throws when the range has no free address.
 */
export function pickAddress(
	pool: Pool,
	index: LeaseIndex,
	last: bigint | undefined,
	network: string,
): bigint {
	const next = last !== undefined && last >= pool.start && last < pool.end ? last + 1n : pool.start;
	const found =
		firstFree(pool, index, next, pool.end) ??
		(next > pool.start ? firstFree(pool, index, pool.start, next - 1n) : undefined);
	if (found !== undefined) return found;
	const range =
		pool.end >= pool.start
			? `${formatAddress(pool.subnet.family, pool.start)} - ${formatAddress(pool.subnet.family, pool.end)}`
			: "empty range";
	throw new ConflictError(
		`failed to find free IP in range: ${range} (subnet ${pool.text} of network ${network} is exhausted)`,
	);
}

/**
 * The address as fixed-width hex (8 digits for IPv4, 32 for IPv6): text that sorts in address
 * order, so sqlite can walk a subnet's leases in order from an index.
 */
export function addressKey(s: Subnet, v: bigint): string {
	return v.toString(16).padStart(s.family === 4 ? 8 : 32, "0");
}

export function keyValue(key: string): bigint {
	return BigInt(`0x${key}`);
}
