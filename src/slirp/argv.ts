// slirp4netns' command line, in podman's order (setupSlirp4netns). Pure.
import type { SlirpFeature } from "./features";
import type { SlirpOptions } from "./options";

export type SlirpTarget = { netnsPath: string } | { pid: number };

export interface SlirpArgvInput {
	options: SlirpOptions;
	features: readonly SlirpFeature[];
	/** The API socket, when port_handler=slirp4netns and there are ports to publish. */
	apiSocket?: string;
	/** Omit -e when no exit pipe is passed (ctrnet's CLI; see helper.ts). */
	exitFd?: number;
	readyFd: number;
	target: SlirpTarget;
}

export function buildSlirpArgs(i: SlirpArgvInput): string[] {
	const has = (f: SlirpFeature) => i.features.includes(f);
	const o = i.options;
	const args: string[] = [];
	if (!o.allowHostLoopback && has("--disable-host-loopback")) args.push("--disable-host-loopback");
	if (has("--mtu")) args.push(`--mtu=${o.mtu}`);
	if (has("--enable-sandbox")) args.push("--enable-sandbox");
	if (has("--enable-seccomp")) args.push("--enable-seccomp");
	if (o.cidr !== undefined) args.push(`--cidr=${o.cidr}`);
	if (o.enableIPv6) args.push("--enable-ipv6");
	if (o.outboundAddr !== undefined) args.push(`--outbound-addr=${o.outboundAddr}`);
	if (o.outboundAddr6 !== undefined) args.push(`--outbound-addr6=${o.outboundAddr6}`);
	if (i.apiSocket !== undefined) args.push("--api-socket", i.apiSocket);
	args.push("-c");
	if (i.exitFd !== undefined) args.push("-e", String(i.exitFd));
	args.push("-r", String(i.readyFd));
	if ("netnsPath" in i.target) args.push("--netns-type=path", i.target.netnsPath, "tap0");
	else args.push(String(i.target.pid), "tap0");
	return args;
}
