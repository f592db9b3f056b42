// Checking a network definition the way podman 4.3 does when it loads one (libnetwork's
// parseNetwork + ValidateSubnets), plus what ctrnet cannot work with: an unknown driver, a DHCP
// IPAM, two subnets of one network that overlap. Every refusal is one line.
import { UsageError } from "../errors";
import { formatIp, ipFamily, parseIp } from "../ip/address";
import {
	contains,
	formatSubnet,
	nthAddress,
	overlaps,
	parseAddress,
	parseSubnet,
	type Subnet,
} from "../ip/cidr";
import {
	DRIVERS,
	type Driver,
	IPAM_DRIVERS,
	NAME_RULE,
	NETWORK_NAME,
	type NetworkDef,
	NetworkDefSchema,
	type RawNetworkDef,
	type SubnetDef,
} from "./schema";

/** Go's time.Time JSON form (RFC 3339, any number of fraction digits, Z or an offset). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function checkName(name: string): void {
	if (!NETWORK_NAME.test(name)) {
		throw new UsageError(`network name ${name} invalid: ${NAME_RULE}`);
	}
}

export function checkIpamDriver(driver: string | undefined): void {
	if (!driver || (IPAM_DRIVERS as readonly string[]).includes(driver)) return;
	if (driver === "dhcp") throw new UsageError("dhcp ipam driver is not yet supported");
	throw new UsageError(`unsupported ipam driver ${JSON.stringify(driver)}`);
}

export function checkDriver(driver: string): Driver {
	if (!(DRIVERS as readonly string[]).includes(driver)) {
		throw new UsageError(`unsupported driver ${driver}`);
	}
	return driver as Driver;
}

/** An IP literal in canonical text (RFC 5952 for IPv6), or a UsageError naming `what`. */
export function canonicalIp(text: string, what: string): string {
	if (!ipFamily(text)) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}`);
	return formatIp(parseIp(text));
}

export function parseSubnetText(text: string): Subnet {
	try {
		return parseSubnet(text);
	} catch {
		throw new UsageError(`invalid CIDR address: ${text}`);
	}
}

/** podman's FirstIPInSubnet: the network address + 1 (the address itself for a /32 or /128). */
export function firstIp(s: Subnet): string {
	return nthAddress(s, s.prefixLen === (s.family === 4 ? 32 : 128) ? 0 : 1);
}

/**
 * One subnet entry: canonical subnet, gateway and lease range inside it (podman's texts), the
 * gateway filled in when `addGateway`. Unknown keys are kept.
 */
export function checkSubnet(entry: SubnetDef, addGateway: boolean): SubnetDef {
	const s = parseSubnetText(entry.subnet);
	const text = formatSubnet(s);
	const out: SubnetDef = { ...entry, subnet: text };
	if (entry.gateway) {
		const gw = canonicalIp(entry.gateway, "gateway");
		if (!contains(s, gw)) throw new UsageError(`gateway ${gw} not in subnet ${text}`);
		out.gateway = gw;
	} else {
		delete out.gateway;
		if (addGateway) out.gateway = firstIp(s);
	}
	if (entry.lease_range) {
		const range = { ...entry.lease_range };
		for (const [key, label] of [
			["start_ip", "start"],
			["end_ip", "end"],
		] as const) {
			const ip = range[key];
			if (!ip) {
				delete range[key];
				continue;
			}
			const canon = canonicalIp(ip, `lease range ${label} ip`);
			if (!contains(s, canon)) {
				throw new UsageError(`lease range ${label} ip ${canon} not in subnet ${text}`);
			}
			range[key] = canon;
		}
		if (
			range.start_ip &&
			range.end_ip &&
			parseAddress(range.start_ip).value > parseAddress(range.end_ip).value
		) {
			throw new UsageError(
				`lease range start ip ${range.start_ip} is after end ip ${range.end_ip} in subnet ${text}`,
			);
		}
		out.lease_range = range;
	} else {
		delete out.lease_range;
	}
	return out;
}

/** Two subnets of one network may not overlap (podman 4.3 lets it pass; its IPAM then misbehaves). */
export function checkNoOverlap(subnets: readonly SubnetDef[], network: string): void {
	const parsed = subnets.map((e) => parseSubnet(e.subnet));
	for (let i = 0; i < parsed.length; i++) {
		for (let j = i + 1; j < parsed.length; j++) {
			if (overlaps(parsed[i] as Subnet, parsed[j] as Subnet)) {
				throw new UsageError(
					`subnets ${subnets[i]?.subnet} and ${subnets[j]?.subnet} of network ${network} overlap`,
				);
			}
		}
	}
}

/** A schema-valid definition -> a checked one with podman's in-memory defaults. */
export function checkNetworkDef(raw: RawNetworkDef): NetworkDef {
	checkName(raw.name);
	if (raw.id.length !== 64) throw new UsageError(`invalid network ID ${JSON.stringify(raw.id)}`);
	const driver = checkDriver(raw.driver);
	const ipamOptions = raw.ipam_options ?? {};
	checkIpamDriver(ipamOptions.driver);
	if (raw.created && !RFC3339.test(raw.created)) {
		throw new UsageError(`invalid created time ${JSON.stringify(raw.created)}`);
	}
	const internal = raw.internal ?? false;
	const dnsEnabled = raw.dns_enabled ?? false;
	// podman's rule: a gateway unless the network is internal without DNS (aardvark needs one).
	const addGateway = !internal || dnsEnabled;
	const subnets = (raw.subnets ?? []).map((e) => checkSubnet(e as SubnetDef, addGateway));
	checkNoOverlap(subnets, raw.name);
	return {
		...raw,
		name: raw.name,
		id: raw.id,
		driver,
		network_interface: raw.network_interface ?? "",
		created: raw.created ?? "",
		subnets,
		ipv6_enabled:
			(raw.ipv6_enabled ?? false) || subnets.some((s) => parseSubnet(s.subnet).family === 6),
		internal,
		dns_enabled: dnsEnabled,
		labels: raw.labels ?? {},
		options: raw.options ?? {},
		ipam_options: ipamOptions,
	};
}

/** A zod issue as "path.to.field: message". */
export function issueText(issue: { path: PropertyKey[]; message: string }): string {
	const path = issue.path.map(String).join(".");
	return path ? `${path}: ${issue.message}` : issue.message;
}

/** Any JSON value -> a checked definition, or a one-line UsageError. */
export function toNetworkDef(value: unknown): NetworkDef {
	const parsed = NetworkDefSchema().safeParse(value);
	if (!parsed.success) {
		const first = parsed.error.issues[0];
		throw new UsageError(`invalid network definition: ${first ? issueText(first) : "bad shape"}`);
	}
	return checkNetworkDef(parsed.data);
}

/**
 * JSON.parse, or a UsageError `<prefix>malformed JSON: <the parser's message>` on one line (a
 * network file's text, netavark's stdin).
 */
export function parseJsonText(text: string, prefix = ""): unknown {
	try {
		return JSON.parse(text);
	} catch (e) {
		throw new UsageError(`${prefix}malformed JSON: ${(e as Error).message.replace(/\s+/g, " ")}`);
	}
}

/** A file's text -> a checked definition, or a one-line UsageError (malformed JSON included). */
export function parseNetworkDef(text: string): NetworkDef {
	return toNetworkDef(parseJsonText(text));
}
