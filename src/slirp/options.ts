// `--network slirp4netns:k=v,...` options, validated as podman does (setupSlirp4netns), with its
// error strings. Pure: the installed slirp4netns' features and the host's interface names come
// in as arguments.
import { ipFamily } from "../ip/address";
import { isIPv4Cidr, nthAddress, parseSubnet } from "../ip/cidr";
import type { SlirpFeature } from "./features";

export type PortHandler = "rootlesskit" | "slirp4netns";

export interface SlirpOptions {
	/** IPv4 CIDR for slirp's network; undefined = slirp4netns' 10.0.2.0/24. */
	cidr?: string;
	portHandler: PortHandler;
	allowHostLoopback: boolean;
	enableIPv6: boolean;
	outboundAddr?: string;
	outboundAddr6?: string;
	mtu: number;
}

export const DEFAULT_MTU = 65520;

/** A bad option: nothing was started. */
export class SlirpOptionError extends Error {
	override name = "SlirpOptionError";
}

/** Go's %q for the strings we quote. */
const q = (s: string) => JSON.stringify(s);

function bool(value: string, err: string): boolean {
	if (value === "true") return true;
	if (value === "false") return false;
	throw new SlirpOptionError(err);
}

/**
 * Parses the options (already split on ","), in podman's order: each option's own validation
 * first, in the order given, then what the installed slirp4netns supports.
 */
export function parseSlirpOptions(
	raw: readonly string[],
	features: readonly SlirpFeature[],
	hostInterfaces: readonly string[] = [],
): SlirpOptions {
	const opts: SlirpOptions = {
		portHandler: "rootlesskit",
		allowHostLoopback: false,
		enableIPv6: false,
		mtu: DEFAULT_MTU,
	};
	for (const o of raw) {
		const eq = o.indexOf("=");
		if (eq < 0) throw new SlirpOptionError(`unknown option for slirp4netns: ${q(o)}`);
		const key = o.slice(0, eq);
		const value = o.slice(eq + 1);
		switch (key) {
			case "cidr":
				if (!isIPv4Cidr(value)) throw new SlirpOptionError(`invalid cidr ${q(value)}`);
				opts.cidr = value;
				break;
			case "port_handler":
				if (value !== "rootlesskit" && value !== "slirp4netns") {
					throw new SlirpOptionError(`unknown port_handler for slirp4netns: ${q(value)}`);
				}
				opts.portHandler = value;
				break;
			case "allow_host_loopback":
				opts.allowHostLoopback = bool(
					value,
					`invalid value of allow_host_loopback for slirp4netns: ${q(value)}`,
				);
				break;
			case "enable_ipv6":
				opts.enableIPv6 = bool(value, `invalid value of enable_ipv6 for slirp4netns: ${q(value)}`);
				break;
			case "outbound_addr":
				// An IPv4 address or the name of a host interface.
				if (ipFamily(value) !== 4 && !hostInterfaces.includes(value)) {
					throw new SlirpOptionError(`invalid outbound_addr ${q(value)}`);
				}
				opts.outboundAddr = value;
				break;
			case "outbound_addr6":
				if (ipFamily(value) !== 6 && !hostInterfaces.includes(value)) {
					throw new SlirpOptionError(`invalid outbound_addr6: ${q(value)}`);
				}
				opts.outboundAddr6 = value;
				break;
			case "mtu": {
				// strconv.Atoi, then at least IPv4's minimum MTU.
				const n = /^[+-]?\d{1,18}$/.test(value) ? Number(value) : Number.NaN;
				if (!Number.isInteger(n) || n < 68) throw new SlirpOptionError(`invalid mtu ${q(value)}`);
				opts.mtu = n;
				break;
			}
			default:
				throw new SlirpOptionError(`unknown option for slirp4netns: ${q(o)}`);
		}
	}
	const has = (f: SlirpFeature) => features.includes(f);
	if (opts.cidr !== undefined && !has("--cidr")) throw new SlirpOptionError("cidr not supported");
	if (opts.enableIPv6 && !has("--enable-ipv6")) {
		throw new SlirpOptionError("enable_ipv6 not supported");
	}
	if (opts.outboundAddr !== undefined && !has("--outbound-addr")) {
		throw new SlirpOptionError("outbound_addr not supported");
	}
	if (opts.outboundAddr6 !== undefined) {
		if (!has("--outbound-addr") || !has("--enable-ipv6")) {
			throw new SlirpOptionError("outbound_addr6 not supported");
		}
		if (!opts.enableIPv6) {
			throw new SlirpOptionError("enable_ipv6=true is required for outbound_addr6");
		}
	}
	return opts;
}

/** The container's address on slirp's network: `<cidr network>.100` (10.0.2.100 by default). */
export function slirpGuestIP(cidr?: string): string {
	return slirpHostAddr(cidr, 100);
}

/** Address `offset` of slirp's network: .2 is the host (gateway), .3 the DNS forwarder. */
export function slirpHostAddr(cidr: string | undefined, offset: number): string {
	return nthAddress(parseSubnet(cidr ?? "10.0.2.0/24"), offset);
}
