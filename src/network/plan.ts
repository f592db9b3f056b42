// `network create`: checks a request against what exists and decides the subnets and the bridge
// name. Pure: the caller gathers the configured networks and the host's networks and links.
import { ConflictError, UsageError } from "../errors";
import {
	contains,
	firstFreeSubnet,
	formatSubnet,
	lastHostAddress,
	nthAddress,
	overlaps,
	parseAddress,
	parseSubnet,
	type Subnet,
} from "../ip/cidr";
import {
	bridgeConflist,
	conflistBridge,
	conflistSubnets,
	type IpamRange,
	macvlanConflist,
} from "./conflist";

/** podman's name pattern, capped so that `<name>.conflist` fits in a file name (NAME_MAX 255). */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,245}$/;
export const BRIDGE_PREFIX = "ctrnet";

export interface CreateRequest {
	name?: string;
	driver: string;
	subnet?: string;
	gateway?: string;
	ipRange?: string;
	internal: boolean;
	ipv6: boolean;
	disableDns: boolean;
	macvlanParent?: string;
}

export interface ExistingNetwork {
	name: string;
	plugins: readonly Record<string, unknown>[];
}

export interface HostView {
	/** Networks of host addresses and (non-default) routes. */
	networks: { subnet: Subnet; ifname?: string }[];
	/** Names of every link on the host. */
	links: string[];
}

export interface PlanContext {
	existing: readonly ExistingNetwork[];
	host: HostView;
	/** Subnets that are never handed out automatically (the default network's, written on first use). */
	reserved: readonly Subnet[];
	/** Bridge names never picked (the default network's ctrnet0). */
	reservedBridges: readonly string[];
	/** A `dnsname` plugin binary exists. */
	haveDnsname: boolean;
}

export interface Plan {
	name: string;
	conflist: Record<string, unknown>;
}

function subnetArg(text: string): Subnet {
	try {
		return parseSubnet(text);
	} catch {
		throw new UsageError(
			`invalid subnet ${JSON.stringify(text)}: must be a CIDR like 10.89.0.0/24`,
		);
	}
}

function existingSubnets(ctx: PlanContext): { network: string; subnet: Subnet }[] {
	const out: { network: string; subnet: Subnet }[] = [];
	for (const n of ctx.existing) {
		for (const s of conflistSubnets(n.plugins)) {
			try {
				out.push({ network: n.name, subnet: parseSubnet(s) });
			} catch {
				// A network with an unparsable subnet cannot collide with anything ctrnet makes.
			}
		}
	}
	return out;
}

/** Refuses a user subnet that intersects a configured network or a host network. */
function checkFree(s: Subnet, ctx: PlanContext): void {
	const text = formatSubnet(s);
	for (const e of existingSubnets(ctx)) {
		if (overlaps(e.subnet, s)) {
			throw new ConflictError(
				`subnet ${text} overlaps ${formatSubnet(e.subnet)} of network ${e.network}`,
			);
		}
	}
	for (const h of ctx.host.networks) {
		if (overlaps(h.subnet, s)) {
			throw new ConflictError(
				`subnet ${text} overlaps ${formatSubnet(h.subnet)} in use on the host${h.ifname ? ` (${h.ifname})` : ""}`,
			);
		}
	}
}

function autoSubnet(ctx: PlanContext, also: Subnet[] = []): Subnet {
	const taken = [
		...existingSubnets(ctx).map((e) => e.subnet),
		...ctx.host.networks.map((h) => h.subnet),
		...ctx.reserved,
		...also,
	];
	const s = firstFreeSubnet(taken);
	if (!s) throw new ConflictError("no free /24 subnet left in 10.0.0.0/8");
	return s;
}

/** The first free `ctrnetN`: not a network name, not a live link, not a bridge in a conflist. */
export function pickBridgeName(ctx: PlanContext): string {
	const used = new Set<string>([
		...ctx.reservedBridges,
		...ctx.host.links,
		...ctx.existing.map((n) => n.name),
		...ctx.existing.map((n) => conflistBridge(n.plugins)).filter((b): b is string => !!b),
	]);
	for (let i = 0; i < 10000; i++) {
		const name = `${BRIDGE_PREFIX}${i}`;
		if (!used.has(name)) return name;
	}
	throw new ConflictError("no free bridge name");
}

function userRange(req: CreateRequest, subnet: Subnet): IpamRange {
	const range: IpamRange = { subnet: formatSubnet(subnet) };
	if (req.gateway) {
		try {
			parseAddress(req.gateway);
		} catch {
			throw new UsageError(`invalid gateway ${JSON.stringify(req.gateway)}`);
		}
		if (!contains(subnet, req.gateway)) {
			throw new UsageError(`gateway ${req.gateway} is not in subnet ${range.subnet}`);
		}
	}
	if (req.ipRange) {
		let r: Subnet;
		try {
			r = parseSubnet(req.ipRange);
		} catch {
			throw new UsageError(`invalid ip-range ${JSON.stringify(req.ipRange)}`);
		}
		if (r.family !== subnet.family || r.prefixLen < subnet.prefixLen || !overlaps(r, subnet)) {
			throw new UsageError(
				`the ip range ${req.ipRange} does not fall within the subnet range ${range.subnet}`,
			);
		}
		range.rangeStart = nthAddress(r, 1);
		range.rangeEnd = lastHostAddress(r);
	}
	if (!req.internal) range.gateway = req.gateway ?? nthAddress(subnet, 1);
	else if (req.gateway) range.gateway = req.gateway;
	return range;
}

export function planNetwork(req: CreateRequest, ctx: PlanContext): Plan {
	if (req.name !== undefined && !NETWORK_NAME.test(req.name)) {
		throw new UsageError(
			`invalid network name ${JSON.stringify(req.name)}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most 246 characters)`,
		);
	}
	if (req.name && ctx.existing.some((n) => n.name === req.name)) {
		throw new ConflictError(`the network name ${req.name} is already used`);
	}
	if ((req.gateway || req.ipRange) && !req.subnet) {
		throw new UsageError("every ip-range or gateway must have a corresponding subnet");
	}
	const subnet = req.subnet ? subnetArg(req.subnet) : undefined;
	if (req.ipv6 && subnet?.family !== 6) {
		throw new UsageError("ipv6 option requires an IPv6 --subnet to be provided");
	}

	if (req.driver === "macvlan") {
		if (!req.macvlanParent) throw new UsageError("the macvlan driver needs --macvlan-parent IF");
		if (!ctx.host.links.includes(req.macvlanParent)) {
			throw new UsageError(`failed to find network interface ${JSON.stringify(req.macvlanParent)}`);
		}
		const range = subnet ? userRange(req, subnet) : undefined;
		if (subnet) checkFree(subnet, ctx);
		const name = req.name ?? pickBridgeName(ctx);
		return { name, conflist: macvlanConflist(name, req.macvlanParent, range) };
	}
	if (req.driver !== "bridge") {
		throw new UsageError(`driver ${JSON.stringify(req.driver)} is not supported (bridge, macvlan)`);
	}
	if (req.macvlanParent) throw new UsageError("--macvlan-parent needs --driver macvlan");

	const ranges: IpamRange[] = [];
	if (subnet) {
		ranges.push(userRange(req, subnet));
		checkFree(subnet, ctx);
	}
	// podman v2: with --ipv6, or with no subnet at all, a free IPv4 /24 is added.
	if (!subnet || req.ipv6) {
		const v4 = autoSubnet(ctx, subnet ? [subnet] : []);
		ranges.push(
			req.internal
				? { subnet: formatSubnet(v4) }
				: { subnet: formatSubnet(v4), gateway: nthAddress(v4, 1) },
		);
	}
	const bridge = pickBridgeName(ctx);
	const name = req.name ?? bridge;
	if (!req.name && ctx.existing.some((n) => n.name === name)) {
		throw new ConflictError(`the network name ${name} is already used`);
	}
	return {
		name,
		conflist: bridgeConflist({
			name,
			bridge,
			ranges,
			gateway: !req.internal,
			dnsname: ctx.haveDnsname && !req.disableDns && !req.internal,
		}),
	};
}
