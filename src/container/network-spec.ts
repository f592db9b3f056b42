// podman's --network grammar (DESIGN 4), as a pure decision: flag values in, a network mode out.
import { NAME_PATTERN, type RootlessNetwork } from "../config/schema";
import { UsageError } from "../errors";
import type { NetworkMode } from "../state/schema";

export type { NetworkMode };

const SINGLE = new Set(["none", "host", "private", "default", ""]);

/**
 * `values` are the --network flags as given (each may hold commas). No value means the default:
 * the default network as root, `rootlessNetwork` (the configured one) rootless.
 */
export function parseNetworkSpecs(
	values: string[],
	defaultNetwork: string,
	rootless: boolean,
	rootlessNetwork: RootlessNetwork,
): NetworkMode {
	const fallback = (): NetworkMode =>
		rootless
			? { mode: rootlessNetwork, options: [] }
			: { mode: "bridge", networks: [defaultNetwork] };
	if (values.length === 0) return fallback();
	const first = values[0] as string;
	const special =
		SINGLE.has(first) ||
		first.startsWith("slirp4netns") ||
		first === "pasta" ||
		first.startsWith("pasta:") ||
		first.startsWith("ns:") ||
		first.startsWith("container:");
	if (special && values.length > 1) {
		throw new UsageError(
			`--network ${JSON.stringify(first)} cannot be combined with other networks`,
		);
	}
	if (first === "none") return { mode: "none" };
	if (first === "host") return { mode: "host" };
	if (first === "private" || first === "default" || first === "") return fallback();
	if (first === "slirp4netns" || first.startsWith("slirp4netns:")) {
		const opts = first.slice("slirp4netns:".length);
		return {
			mode: "slirp4netns",
			options: first === "slirp4netns" || !opts ? [] : opts.split(","),
		};
	}
	if (first === "pasta" || first.startsWith("pasta:")) {
		// After `pasta:` every comma starts another of pasta's own arguments (podman's grammar).
		const opts = first.slice("pasta:".length);
		return { mode: "pasta", options: first === "pasta" || !opts ? [] : opts.split(",") };
	}
	if (first.startsWith("ns:")) {
		const path = first.slice(3);
		if (!path.startsWith("/"))
			throw new UsageError(`--network ns: needs an absolute path, got ${JSON.stringify(path)}`);
		return { mode: "ns", path };
	}
	if (first.startsWith("container:")) {
		const id = first.slice("container:".length);
		if (!NAME_PATTERN.test(id)) throw new UsageError(`invalid container ID ${JSON.stringify(id)}`);
		return { mode: "container", id };
	}
	const names = new Set<string>();
	for (const value of values) {
		for (const raw of value.split(",")) {
			const name = raw.trim() === "bridge" ? defaultNetwork : raw.trim();
			if (!name) throw new UsageError(`empty network name in --network ${JSON.stringify(value)}`);
			if (SINGLE.has(name) || name.includes(":") || name === "pasta") {
				throw new UsageError(
					`--network ${JSON.stringify(name)} cannot be combined with other networks`,
				);
			}
			if (!NAME_PATTERN.test(name))
				throw new UsageError(`invalid network name ${JSON.stringify(name)}`);
			names.add(name);
		}
	}
	return { mode: "bridge", networks: [...names].sort() };
}
