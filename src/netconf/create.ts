// `network create` with podman 4.3's semantics (cmd/podman/networks/create.go + libnetwork's
// netavark NetworkCreate), decided without touching the host: the caller gathers the existing
// definitions, the host's routes and links. Error texts are podman's where podman has one.
import * as z from "zod/mini";
import { ConflictError, UsageError } from "../errors";
import { formatIp } from "../ip/address";
import {
	firstFreeSubnet,
	formatSubnet,
	lastHostAddress,
	nthAddress,
	overlaps,
	parseSubnet,
	type Subnet,
} from "../ip/cidr";
import { lazySchema } from "../json";
import { formatCreated, newNetworkId } from "./identity";
import { MACVLAN_MODES, type NetworkDef, type SubnetDef } from "./schema";
import {
	canonicalIp,
	checkDriver,
	checkIpamDriver,
	checkName,
	checkNetworkDef,
	firstIp,
	issueText,
	parseSubnetText,
} from "./validate";

const list = () => z._default(z.array(z.string()), []);
const flag = () => z._default(z.boolean(), false);
function buildFlagsSchema() {
	return z.object({
		name: z.optional(z.string()),
		driver: z._default(z.string(), "bridge"),
		/** --subnet, repeatable (dual stack). */
		subnets: list(),
		/** --gateway, repeatable: the n-th pairs with the n-th subnet. */
		gateways: list(),
		/** --ip-range, repeatable: the n-th pairs with the n-th subnet. */
		ipRanges: list(),
		internal: flag(),
		ipv6: flag(),
		disableDns: flag(),
		/** -o KEY=VALUE, repeatable. */
		options: list(),
		/** --label KEY=VALUE, repeatable. */
		labels: list(),
		/** --interface-name: the bridge (bridge) or the parent interface (macvlan). */
		interfaceName: z.optional(z.string()),
		ipamDriver: z.optional(z.string()),
	});
}
const createFlagsSchema = lazySchema(buildFlagsSchema);

export type CreateFlags = z.input<ReturnType<typeof buildFlagsSchema>>;

export interface CreateContext {
	/** Names of the host's links: never picked as a bridge name; a macvlan parent must be one. */
	hostLinks?: readonly string[];
	/** Subnets never handed out automatically (the default network's, before it is written). */
	reservedSubnets?: readonly string[];
	/** Interface names never picked (the default network's bridge, ctrnet0). */
	reservedInterfaces?: readonly string[];
	/** Prefix of picked names: `<prefix>N`, N from 1 (0 is the default network's). */
	interfacePrefix?: string;
	now?: Date;
	/** Random bytes (the network ID, the IPv6 ULA subnet); tests pass a fixed source. */
	random?: (n: number) => Uint8Array;
}

const IFNAMSIZ_MAX = 15;
const BRIDGE_OPTIONS = ["mtu", "isolate"];
const MACVLAN_OPTIONS = ["mtu", "mode"];
// Go's strconv.ParseBool, which podman 4.3 uses for `isolate` before writing "true"/"false".
const TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE = ["0", "f", "F", "FALSE", "false", "False"];

/** podman's GetAllLabels: KEY=VALUE, or KEY alone for an empty value. */
function keyValues(items: readonly string[], what: string): Record<string, string> {
	const out: Record<string, string> = {};
	for (const item of items) {
		const eq = item.indexOf("=");
		const key = eq < 0 ? item : item.slice(0, eq);
		if (key === "") throw new UsageError(`${what}: invalid label format: ${JSON.stringify(item)}`);
		out[key] = eq < 0 ? "" : item.slice(eq + 1);
	}
	return out;
}

function checkMtu(value: string): void {
	if (value === "") return;
	if (!/^[+-]?\d+$/.test(value)) throw new UsageError(`invalid mtu ${JSON.stringify(value)}`);
	if (Number(value) < 0) throw new UsageError(`mtu ${Number(value)} is less than zero`);
}

function normalizeOptions(driver: string, options: Record<string, string>): void {
	const allowed = driver === "bridge" ? BRIDGE_OPTIONS : MACVLAN_OPTIONS;
	for (const [key, value] of Object.entries(options)) {
		if (!allowed.includes(key)) {
			throw new UsageError(`unsupported ${driver} network option ${key}`);
		}
		if (key === "mtu") checkMtu(value);
		if (key === "mode" && !(MACVLAN_MODES as readonly string[]).includes(value)) {
			throw new UsageError(`unknown macvlan mode ${JSON.stringify(value)}`);
		}
		if (key === "isolate") {
			// netavark 1.4 parses it as a bool: "strict" came later (netavark 1.6).
			if (TRUE.includes(value)) options[key] = "true";
			else if (FALSE.includes(value)) options[key] = "false";
			else
				throw new UsageError(
					`invalid isolate option ${JSON.stringify(value)}: must be true or false`,
				);
		}
	}
}

/** Names that a new bridge or an unnamed network may not take. */
function usedInterfaceNames(existing: readonly NetworkDef[], ctx: CreateContext): Set<string> {
	return new Set([
		...(ctx.reservedInterfaces ?? []),
		...(ctx.hostLinks ?? []),
		...existing.map((n) => n.name),
		...existing.filter((n) => n.driver === "bridge").map((n) => n.network_interface),
	]);
}

function freeInterfaceName(used: Set<string>, prefix: string): string {
	for (let i = 1; i < 100000; i++) {
		const name = `${prefix}${i}`;
		if (!used.has(name)) return name;
	}
	throw new ConflictError("could not find free device name, to many iterations");
}

interface Used {
	subnet: Subnet;
	by: string;
}

function checkUnused(s: Subnet, used: readonly Used[]): void {
	const hit = used.find((u) => overlaps(u.subnet, s));
	if (hit) {
		throw new ConflictError(
			`subnet ${formatSubnet(s)} is already used on the host or by another config (${hit.by})`,
		);
	}
}

function randomUlaSubnet(random: (n: number) => Uint8Array): Subnet {
	const bytes = new Uint8Array(16);
	bytes.set(random(8));
	bytes[0] = 0xfd; // RFC 4193: a random /64 under fd00::/8, as podman picks it
	return parseSubnet(`${formatIp(bytes)}/64`);
}

function freeIpv6Subnet(used: readonly Used[], random: (n: number) => Uint8Array): Subnet {
	for (let i = 0; i < 10000; i++) {
		const s = randomUlaSubnet(random);
		if (!used.some((u) => overlaps(u.subnet, s))) return s;
	}
	throw new ConflictError("failed to get random ipv6 subnet");
}

/**
 * podman's parseRange: from the range's first address (network + 1) to its last one, which for
 * IPv4 is the broadcast address (podman writes it so; the allocator never hands it out).
 */
function leaseRangeOf(text: string): { start_ip: string; end_ip: string } {
	const r = parseSubnetText(text);
	const end = r.family === 4 ? nthAddress(r, 2 ** (32 - r.prefixLen) - 1) : lastHostAddress(r);
	return { start_ip: firstIp(r), end_ip: end };
}

function checkBridgeName(bridge: string, existing: readonly NetworkDef[]): void {
	if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(bridge)) {
		throw new UsageError(
			`bridge name ${bridge} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`,
		);
	}
	if (bridge.length > IFNAMSIZ_MAX) {
		throw new UsageError(`bridge name ${bridge} invalid: at most ${IFNAMSIZ_MAX} characters`);
	}
	const other = existing.find((n) => n.driver === "bridge" && n.network_interface === bridge);
	if (other)
		throw new ConflictError(`bridge name ${bridge} already in use (network ${other.name})`);
}

/**
 * podman's host-local bridge: a free IPv4 /24 when no subnet was given; with --ipv6 (dual stack)
 * whichever family is missing, IPv6 as a random ULA /64.
 */
function addAutoSubnets(
	subnets: SubnetDef[],
	used: readonly Used[],
	ipv6: boolean,
	random: (n: number) => Uint8Array,
): void {
	const taken = () => [...used.map((u) => u.subnet), ...subnets.map((s) => parseSubnet(s.subnet))];
	const has = (family: 4 | 6) => subnets.some((s) => parseSubnet(s.subnet).family === family);
	const addV4 = () => {
		const s = firstFreeSubnet(taken());
		if (!s) throw new ConflictError("could not find free subnet from subnet pools");
		subnets.push({ subnet: formatSubnet(s) });
	};
	if (subnets.length === 0) addV4();
	if (!ipv6) return;
	if (!has(4)) addV4();
	if (!has(6)) {
		const all = taken().map((subnet) => ({ subnet, by: "" }));
		subnets.push({ subnet: formatSubnet(freeIpv6Subnet(all, random)) });
	}
}

/** macvlan: the parent must exist, and host-local needs a subnet (no DHCP). Returns the IPAM. */
function checkMacvlan(
	parent: string,
	ipam: string,
	subnets: readonly SubnetDef[],
	ctx: CreateContext,
): string {
	if (parent && ctx.hostLinks && !ctx.hostLinks.includes(parent)) {
		throw new UsageError(`parent interface ${parent} does not exist`);
	}
	if (ipam === "" && subnets.length === 0) {
		throw new UsageError(
			"macvlan driver needs at least one subnet specified, DHCP is not yet supported with netavark",
		);
	}
	if (ipam === "host-local" && subnets.length === 0) {
		throw new UsageError(
			"macvlan driver needs at least one subnet specified, when the host-local ipam driver is set",
		);
	}
	return ipam || "host-local";
}

/** --subnet, --gateway, --ip-range: the n-th gateway and range go with the n-th subnet. */
function pairedSubnets(f: {
	subnets: string[];
	gateways: string[];
	ipRanges: string[];
}): SubnetDef[] {
	if (f.subnets.length === 0 && (f.gateways.length > 0 || f.ipRanges.length > 0)) {
		throw new UsageError("cannot set gateway or range without subnet");
	}
	if (f.gateways.length > f.subnets.length) {
		throw new UsageError("cannot set more gateways than subnets");
	}
	if (f.ipRanges.length > f.subnets.length) {
		throw new UsageError("cannot set more ranges than subnets");
	}
	return f.subnets.map((text, i) => {
		const entry: SubnetDef = { subnet: formatSubnet(parseSubnetText(text)) };
		const gw = f.gateways[i];
		if (gw !== undefined) entry.gateway = canonicalIp(gw, "gateway");
		const range = f.ipRanges[i];
		if (range !== undefined) entry.lease_range = leaseRangeOf(range);
		return entry;
	});
}

const defaultRandom = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/**
 * The definition `podman network create` would write for these flags, or a one-line error:
 * duplicate name, subnet in use by another network or a host route, bad gateway / range / option.
 * `hostRoutes` are the CIDRs of the host's addresses and routes (a default route, /0, is ignored).
 */
export function planNetworkCreate(
	flags: CreateFlags,
	existing: readonly NetworkDef[],
	hostRoutes: readonly string[],
	ctx: CreateContext = {},
): NetworkDef {
	const parsed = createFlagsSchema().safeParse(flags);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		throw new UsageError(`invalid flags: ${issue ? issueText(issue) : "bad shape"}`);
	}
	const f = parsed.data;
	const random = ctx.random ?? defaultRandom;
	const prefix = ctx.interfacePrefix ?? "ctrnet";

	const driver = checkDriver(f.driver);
	if (f.name !== undefined) {
		checkName(f.name);
		if (existing.some((n) => n.name === f.name)) {
			throw new ConflictError(`network name ${f.name} already used: network already exists`);
		}
	}
	const labels = keyValues(f.labels, "failed to parse labels");
	const options = keyValues(f.options, "unable to parse options");
	let networkInterface = f.interfaceName ?? "";
	if (driver === "macvlan" && "parent" in options) {
		const parent = options.parent as string;
		delete options.parent;
		if (networkInterface && networkInterface !== parent) {
			throw new UsageError(`-o parent=${parent} and --interface-name ${networkInterface} differ`);
		}
		networkInterface = parent;
	}
	normalizeOptions(driver, options);

	if (f.ipamDriver !== undefined) {
		if (f.ipamDriver === "dhcp") {
			throw new UsageError("dhcp ipam driver is not yet supported with netavark");
		}
		checkIpamDriver(f.ipamDriver);
	}
	let ipam = f.ipamDriver ?? "";

	const subnets = pairedSubnets(f);
	if (ipam === "none" && subnets.length > 0) {
		throw new UsageError("none ipam driver is set but subnets are given");
	}

	// What a new subnet may not overlap. podman checks host routes for bridges only: a macvlan
	// network usually is the subnet of its parent's LAN.
	const used: Used[] = [
		...existing.flatMap((n) =>
			n.subnets.map((s) => ({ subnet: parseSubnet(s.subnet), by: `network ${n.name}` })),
		),
		...(ctx.reservedSubnets ?? []).map((s) => ({ subnet: parseSubnetText(s), by: "reserved" })),
	];
	if (driver === "bridge") {
		for (const r of hostRoutes) {
			const s = parseSubnetText(r);
			if (s.prefixLen > 0) used.push({ subnet: s, by: `host route ${formatSubnet(s)}` });
		}
	}
	for (const s of subnets) checkUnused(parseSubnet(s.subnet), used);

	const usedNames = usedInterfaceNames(existing, ctx);
	const name = f.name ?? freeInterfaceName(usedNames, prefix);
	// Here, not only in checkNetworkDef: a picked name (ctx.interfacePrefix) is refused as a
	// network name before the bridge and macvlan checks see it.
	checkName(name);

	if (driver === "bridge") {
		networkInterface ||= f.name === undefined ? name : freeInterfaceName(usedNames, prefix);
		checkBridgeName(networkInterface, existing);
		if (ipam === "" || ipam === "host-local") {
			addAutoSubnets(subnets, used, f.ipv6, random);
			ipam = "host-local";
		}
	} else {
		ipam = checkMacvlan(networkInterface, ipam, subnets, ctx);
	}

	const ids = new Set(existing.map((n) => n.id));
	let id = newNetworkId(random);
	while (ids.has(id)) id = newNetworkId(random);

	// The file's own checks and defaults (canonical subnets, gateways, ranges, no overlap,
	// ipv6_enabled), as when it is read back.
	return checkNetworkDef({
		name,
		id,
		driver,
		network_interface: networkInterface,
		created: formatCreated(ctx.now),
		subnets,
		ipv6_enabled: f.ipv6,
		internal: f.internal,
		// Without IPAM there is no address to serve names from.
		dns_enabled: !f.disableDns && ipam !== "none",
		labels,
		options,
		ipam_options: ipam ? { driver: ipam } : {},
	});
}
