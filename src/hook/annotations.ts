// The io.ctrnet.* annotations a container carries, turned into the CLI's raw setup strings.
// Grammar (one value per annotation, as OCI annotations are a string map):
//   io.ctrnet.network  one `--network` value: commas separate networks (`a,b`), except after
//                      `slirp4netns:` or `pasta:` where they separate its options; empty = the
//                      default network
//   io.ctrnet.publish  `--publish` specs separated by commas (a spec itself never holds a comma)
//   io.ctrnet.alias    aliases separated by commas
//   io.ctrnet.ip, io.ctrnet.mac, io.ctrnet.name   one value each
// An unknown io.ctrnet.* key is refused: a typo (io.ctrnet.port) must not silently drop a port.
import * as z from "zod/mini";
import type { RawSetup } from "../container/request";
import { UsageError } from "../errors";

export const PREFIX = "io.ctrnet.";
export const ANNOTATIONS = {
	network: `${PREFIX}network`,
	publish: `${PREFIX}publish`,
	ip: `${PREFIX}ip`,
	mac: `${PREFIX}mac`,
	alias: `${PREFIX}alias`,
	name: `${PREFIX}name`,
} as const;
const KNOWN = new Set<string>(Object.values(ANNOTATIONS));

export const AnnotationsSchema = z.record(z.string(), z.string());

const list = (v: string | undefined): string[] =>
	(v ?? "")
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean);

const single = (v: string | undefined): string | undefined => {
	const t = v?.trim();
	return t ? t : undefined;
};

/** Pure: the raw setup for container `id` (netns and pid are the caller's to add). */
export function rawFromAnnotations(
	id: string,
	annotations: Record<string, string>,
): Omit<RawSetup, "netns" | "pid"> {
	const a = AnnotationsSchema.parse(annotations);
	for (const key of Object.keys(a)) {
		if (key.startsWith(PREFIX) && !KNOWN.has(key)) {
			throw new UsageError(`unknown annotation ${key} (known: ${[...KNOWN].join(", ")})`);
		}
	}
	const network = single(a[ANNOTATIONS.network]);
	return {
		id,
		name: single(a[ANNOTATIONS.name]),
		networks: network ? [network] : [],
		ip: single(a[ANNOTATIONS.ip]),
		mac: single(a[ANNOTATIONS.mac]),
		publish: list(a[ANNOTATIONS.publish]),
		aliases: list(a[ANNOTATIONS.alias]),
	};
}

/** The annotations that express a raw setup (for `hook inject --network …`). Inverse of the above. */
export function annotationsFromRaw(
	raw: Omit<RawSetup, "id" | "netns" | "pid">,
): Record<string, string> {
	const out: Record<string, string> = {};
	if (raw.networks.length > 0) out[ANNOTATIONS.network] = raw.networks.join(",");
	if (raw.publish.length > 0) out[ANNOTATIONS.publish] = raw.publish.join(",");
	if (raw.aliases.length > 0) out[ANNOTATIONS.alias] = raw.aliases.join(",");
	if (raw.ip !== undefined) out[ANNOTATIONS.ip] = raw.ip;
	if (raw.mac !== undefined) out[ANNOTATIONS.mac] = raw.mac;
	if (raw.name !== undefined) out[ANNOTATIONS.name] = raw.name;
	return out;
}
