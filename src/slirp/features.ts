// slirp4netns feature detection, as podman's checkSlirpFlags: substrings of `slirp4netns --help`.
import { outputOf } from "../process/output";

export const SLIRP_FEATURES = [
	"--disable-host-loopback",
	"--mtu",
	"--enable-sandbox",
	"--enable-seccomp",
	"--cidr",
	"--outbound-addr",
	"--enable-ipv6",
] as const;
export type SlirpFeature = (typeof SLIRP_FEATURES)[number];

export interface SlirpInfo {
	path: string;
	version: string;
	features: SlirpFeature[];
}

export function parseSlirpFeatures(help: string): SlirpFeature[] {
	return SLIRP_FEATURES.filter((f) => help.includes(f));
}

/** "slirp4netns version 1.2.0\ncommit: …" → "1.2.0" */
export function parseSlirpVersion(out: string): string {
	return /slirp4netns version (\S+)/.exec(out)?.[1] ?? "unknown";
}

/** Finds slirp4netns in PATH and asks it for its version and options; null when not installed. */
export async function detectSlirp(path = Bun.which("slirp4netns")): Promise<SlirpInfo | null> {
	if (!path) return null;
	const [help, version] = await Promise.all([
		outputOf([path, "--help"]),
		outputOf([path, "--version"]),
	]);
	return { path, version: parseSlirpVersion(version), features: parseSlirpFeatures(help) };
}
