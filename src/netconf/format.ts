// Writing a definition as podman 4.3 writes it (Go's json.Encoder with a five-space indent): the
// struct's key order, empty maps and absent values left out, map keys sorted, HTML characters
// escaped, a final newline. Keys ctrnet does not know follow in the order they were read.
import type { LeaseRange, NetworkDef, SubnetDef } from "./schema";

const NETWORK_KEYS = [
	"name",
	"id",
	"driver",
	"network_interface",
	"created",
	"subnets",
	"ipv6_enabled",
	"internal",
	"dns_enabled",
	"labels",
	"options",
	"ipam_options",
] as const;
const SUBNET_KEYS = ["subnet", "gateway", "lease_range"] as const;
const RANGE_KEYS = ["start_ip", "end_ip"] as const;
/** Fields Go writes even when empty (no omitempty tag). */
const ALWAYS = new Set(["name", "id", "driver", "ipv6_enabled", "internal", "dns_enabled"]);

function isEmpty(v: unknown): boolean {
	if (v === undefined || v === null || v === "") return true;
	if (Array.isArray(v)) return v.length === 0;
	if (typeof v === "object") return Object.keys(v).length === 0;
	return false;
}

function sortedMap(m: Record<string, string>): Record<string, string> {
	return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function ordered(
	src: Record<string, unknown>,
	keys: readonly string[],
	convert: (key: string, value: unknown) => unknown = (_k, v) => v,
): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const k of keys) {
		const v = src[k];
		if (ALWAYS.has(k) ? v === undefined : isEmpty(v)) continue;
		out[k] = convert(k, v);
	}
	for (const [k, v] of Object.entries(src)) {
		if (!keys.includes(k) && v !== undefined) out[k] = v;
	}
	return out;
}

function subnetDoc(s: SubnetDef): Record<string, unknown> {
	return ordered(s, SUBNET_KEYS, (k, v) =>
		k === "lease_range" ? ordered(v as LeaseRange, RANGE_KEYS) : v,
	);
}

/** The plain object podman would write, in its key order. */
export function networkDoc(def: NetworkDef): Record<string, unknown> {
	return ordered(def, NETWORK_KEYS, (k, v) => {
		if (k === "subnets") return (v as SubnetDef[]).map(subnetDoc);
		if (k === "labels" || k === "options" || k === "ipam_options") {
			return sortedMap(v as Record<string, string>);
		}
		return v;
	});
}

// Go's encoder escapes these inside strings; they can appear nowhere else in JSON text.
const GO_ESCAPED = /[<>&\u2028\u2029]/g;

/** The file content: byte for byte what podman 4.3 writes for the same definition. */
export function formatNetworkDef(def: NetworkDef): string {
	const text = JSON.stringify(networkDoc(def), null, 5).replace(
		GO_ESCAPED,
		(c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
	);
	return `${text}\n`;
}
