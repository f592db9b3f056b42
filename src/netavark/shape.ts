// Checking the shape of podman's JSON by hand. netavark runs once per container and podman waits
// for it: zod's first parse of these schemas costs about 4 ms per call in the compiled binary
// (scripts/bench/netavark.ts measures the calls), more than the rest of the parsing together. So
// the front end's one input is checked here, with zod's rules and zod-like messages
// (`networks.podman.interface_name: Invalid input: expected string, received undefined`); the
// TypeScript types below are the single source of its shape. Unknown fields are kept (serde
// ignores them, podman 4 network files carry them). Pure.
import type { RawNetworkDef } from "../netconf/schema";

export class ShapeError extends Error {
	override name = "ShapeError";
}

type Path = readonly (string | number)[];

const at = (path: Path) => path.map(String).join(".");

function typeName(v: unknown): string {
	if (v === null) return "null";
	if (Array.isArray(v)) return "array";
	return typeof v;
}

function fail(path: Path, expected: string, v: unknown): never {
	const where = at(path);
	throw new ShapeError(
		`${where ? `${where}: ` : ""}Invalid input: expected ${expected}, received ${typeName(v)}`,
	);
}

export function object(v: unknown, path: Path): Record<string, unknown> {
	if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "object", v);
	return v as Record<string, unknown>;
}

export function string(v: unknown, path: Path): string {
	if (typeof v !== "string") fail(path, "string", v);
	return v;
}

export function boolean(v: unknown, path: Path): boolean {
	if (typeof v !== "boolean") fail(path, "boolean", v);
	return v;
}

/** An integer within [min, max]. */
export function int(v: unknown, path: Path, min: number, max: number): number {
	if (typeof v !== "number" || !Number.isInteger(v)) fail(path, "int", v);
	if (v < min) throw new ShapeError(`${at(path)}: Too small: expected number to be >=${min}`);
	if (v > max) throw new ShapeError(`${at(path)}: Too big: expected number to be <=${max}`);
	return v;
}

/** Absent or null (Go's encoding of "none") as undefined, else checked by `check`. */
export function optional<T>(
	v: unknown,
	path: Path,
	check: (v: unknown, path: Path) => T,
): T | undefined {
	return v === undefined || v === null ? undefined : check(v, path);
}

export function array<T>(check: (v: unknown, path: Path) => T) {
	return (v: unknown, path: Path): T[] => {
		if (!Array.isArray(v)) fail(path, "array", v);
		return v.map((x, i) => check(x, [...path, i]));
	};
}

export function record<T>(check: (v: unknown, path: Path) => T) {
	return (v: unknown, path: Path): Record<string, T> => {
		const o = object(v, path);
		const out: Record<string, T> = {};
		for (const [k, x] of Object.entries(o)) out[k] = check(x, [...path, k]);
		return out;
	};
}

const strings = array(string);
const stringMap = record(string);

/** A podman 4 network definition as read (netconf's NetworkDefSchema, by hand). */
export function rawNetworkDef(v: unknown, path: Path): RawNetworkDef {
	const o = object(v, path);
	const p = (k: string) => [...path, k];
	const subnet = (s: unknown, sp: Path) => {
		const so = object(s, sp);
		const range = optional(so.lease_range, [...sp, "lease_range"], (r, rp) => {
			const ro = object(r, rp);
			return {
				...ro,
				start_ip: optional(ro.start_ip, [...rp, "start_ip"], string),
				end_ip: optional(ro.end_ip, [...rp, "end_ip"], string),
			};
		});
		return {
			...so,
			subnet: string(so.subnet, [...sp, "subnet"]),
			gateway: optional(so.gateway, [...sp, "gateway"], string),
			lease_range: range,
		};
	};
	return {
		...o,
		name: string(o.name, p("name")),
		id: string(o.id, p("id")),
		driver: string(o.driver, p("driver")),
		network_interface: optional(o.network_interface, p("network_interface"), string),
		created: optional(o.created, p("created"), string),
		subnets: optional(o.subnets, p("subnets"), array(subnet)),
		ipv6_enabled: optional(o.ipv6_enabled, p("ipv6_enabled"), boolean),
		internal: optional(o.internal, p("internal"), boolean),
		dns_enabled: optional(o.dns_enabled, p("dns_enabled"), boolean),
		labels: optional(o.labels, p("labels"), stringMap),
		options: optional(o.options, p("options"), stringMap),
		ipam_options: optional(o.ipam_options, p("ipam_options"), stringMap),
	} as RawNetworkDef;
}

export { stringMap, strings };
