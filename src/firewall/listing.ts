// Reading nft's JSON listings (libnftables with NFT_CTX_OUTPUT_JSON) for the few decisions that
// need the kernel's current state: where our rule sits in iptables' FORWARD chains, and what the
// port maps hold. Pure: JSON text in, plain data out.
import * as z from "zod/mini";
import { formatIp, ipFamily, parseIp } from "../ip/address";
import type { Element } from "./elements";
import { HOST_FORWARD_COMMENT } from "./ruleset";

const Listing = z.object({ nftables: z.array(z.record(z.string(), z.unknown())) });

const Rule = z.object({ handle: z.number(), comment: z.optional(z.string()) });

const Scalar = z.union([z.string(), z.number()]);
const Concat = z.object({ concat: z.array(Scalar) });
// An element is its value, or {elem: {val, comment…}} when it carries a comment.
const Key = z.union([Concat, z.object({ elem: z.object({ val: Concat }) })]);
const MapName = z.object({ name: z.string() });
const PortMap = z.object({ elem: z.optional(z.array(z.tuple([Key, Concat]))) });

function objects(json: string, kind: string): unknown[] {
	if (!json.trim()) return [];
	const doc = Listing.parse(JSON.parse(json));
	return doc.nftables.flatMap((o) => (kind in o ? [o[kind]] : []));
}

/** Handles of our rules in a listed iptables FORWARD chain (`list chain ip filter FORWARD`). */
export function hostForwardHandles(json: string): number[] {
	return objects(json, "rule")
		.map((r) => Rule.parse(r))
		.filter((r) => r.comment === HOST_FORWARD_COMMENT)
		.map((r) => r.handle);
}

const text = (v: string | number) => {
	const s = String(v);
	return ipFamily(s) ? formatIp(parseIp(s)) : s;
};

/**
 * The elements of the port maps (ports4, ports4_any, ports6, ports6_any) in a listing of our
 * table, keyed and written as elements.ts writes them (`set key`), so they compare as strings.
 */
export function portMapElements(json: string): Map<string, Element> {
	const out = new Map<string, Element>();
	for (const raw of objects(json, "map")) {
		const { name } = MapName.parse(raw);
		if (!/^ports[46](_any)?$/.test(name)) continue;
		for (const [k, v] of PortMap.parse(raw).elem ?? []) {
			const keyParts = "concat" in k ? k.concat : k.elem.val.concat;
			const key = keyParts.map(text).join(" . ");
			out.set(`${name} ${key}`, { set: name, key, data: v.concat.map(text).join(" . ") });
		}
	}
	return out;
}
