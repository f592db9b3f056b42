// CNI results: one internal model for every spec version, read from any of them and written back
// in the version a config asks for (libcni's pkg/types/{020,040,100} converters). Pure.
import { CtrnetError } from "../errors";
import { decode } from "../json";
import { type RawResult, RawResultSchema } from "./schema";
import { atLeast, compareVersions } from "./version";

export interface CniInterface {
	name: string;
	mac?: string;
	mtu?: number;
	sandbox?: string;
	socketPath?: string;
	pciID?: string;
}
export interface CniIP {
	/** CIDR, e.g. 10.88.0.5/16. */
	address: string;
	gateway?: string;
	/** Index into `interfaces`. */
	interface?: number;
}
export interface CniRoute {
	dst: string;
	gw?: string;
	mtu?: number;
	advmss?: number;
	priority?: number;
	table?: number;
	scope?: number;
}
export interface CniDns {
	nameservers?: string[];
	domain?: string;
	search?: string[];
	options?: string[];
}
/** The internal model: the 1.1.0 result, version-independent. */
export interface CniResult {
	interfaces: CniInterface[];
	ips: CniIP[];
	routes: CniRoute[];
	dns: CniDns;
}

const is4 = (cidrOrIp: string) => !cidrOrIp.includes(":");

/**
 * Reads a result of any version. `fallbackVersion` is used when the JSON names none (a plugin
 * answering a config of that version). Throws CtrnetError naming the field that is wrong.
 */
export function parseResult(raw: unknown, fallbackVersion = "1.1.0"): CniResult {
	const r: RawResult = decode(
		RawResultSchema(),
		raw,
		"invalid CNI result",
		(m) => new CtrnetError(m),
	);
	const version = r.cniVersion || fallbackVersion;
	if (compareVersions(version, "0.3.0") < 0 || r.ip4 || r.ip6) return from02x(r);
	return {
		interfaces: (r.interfaces ?? []).map((i) => strip({ ...i })),
		ips: (r.ips ?? []).map((ip) =>
			strip({ address: ip.address, gateway: ip.gateway, interface: ip.interface ?? undefined }),
		),
		routes: (r.routes ?? []).map((rt) => strip({ ...rt })),
		dns: strip({ ...(r.dns ?? {}) }),
	};
}

function from02x(r: RawResult): CniResult {
	const out: CniResult = { interfaces: [], ips: [], routes: [], dns: strip({ ...(r.dns ?? {}) }) };
	for (const ipc of [r.ip4, r.ip6]) {
		if (!ipc) continue;
		out.ips.push(strip({ address: ipc.ip, gateway: ipc.gateway }));
		for (const rt of ipc.routes ?? []) out.routes.push(strip({ ...rt }));
	}
	return out;
}

/**
 * The result as JSON of spec version `version`, with Go's field order and omitempty rules, so the
 * bytes match what libcni would write (`dns` is a struct in Go and so is always present).
 */
export function resultToVersion(result: CniResult, version: string): Record<string, unknown> {
	if (compareVersions(version, "0.3.0") < 0) return to02x(result, version);
	const modern = atLeast(version, "1.0.0");
	const out: Record<string, unknown> = { cniVersion: version };
	if (result.interfaces.length > 0) {
		out.interfaces = result.interfaces.map((i) =>
			modern
				? strip({
						name: i.name,
						mac: i.mac,
						mtu: i.mtu,
						sandbox: i.sandbox,
						socketPath: i.socketPath,
						pciID: i.pciID,
					})
				: strip({ name: i.name, mac: i.mac, sandbox: i.sandbox }),
		);
	}
	if (result.ips.length > 0) {
		out.ips = result.ips.map((ip) =>
			strip({
				version: modern ? undefined : is4(ip.address) ? "4" : "6",
				interface: ip.interface,
				address: ip.address,
				gateway: ip.gateway,
			}),
		);
	}
	if (result.routes.length > 0) out.routes = result.routes.map(routeJson);
	out.dns = dnsJson(result.dns);
	return out;
}

function to02x(result: CniResult, version: string): Record<string, unknown> {
	const out: Record<string, unknown> = { cniVersion: version };
	for (const fam of ["4", "6"] as const) {
		const ip = result.ips.find((i) => (is4(i.address) ? "4" : "6") === fam);
		if (!ip) continue;
		const routes = result.routes
			.filter((r) => (is4(r.dst) ? "4" : "6") === fam)
			.map((r) => strip({ dst: r.dst, gw: r.gw }));
		out[`ip${fam}`] = strip({
			ip: ip.address,
			gateway: ip.gateway,
			routes: routes.length ? routes : undefined,
		});
	}
	if (!out.ip4 && !out.ip6) {
		throw new CtrnetError(`cannot convert result to ${version}: no IP addresses`);
	}
	out.dns = dnsJson(result.dns);
	return out;
}

const routeJson = (r: CniRoute) =>
	strip({
		dst: r.dst,
		gw: r.gw,
		mtu: r.mtu || undefined,
		advmss: r.advmss || undefined,
		priority: r.priority || undefined,
		table: r.table,
		scope: r.scope,
	});

const dnsJson = (d: CniDns) =>
	strip({
		nameservers: d.nameservers?.length ? d.nameservers : undefined,
		domain: d.domain || undefined,
		search: d.search?.length ? d.search : undefined,
		options: d.options?.length ? d.options : undefined,
	});

/** Drops undefined keys, so JSON and deep-equality see only what is set. */
function strip<T extends object>(o: T): T {
	for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
	return o;
}
