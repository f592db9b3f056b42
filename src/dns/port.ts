// The port aardvark-dns listens on: NETAVARK_DNS_PORT as netavark 1.4 reads it (a u16, default
// 53; podman sets it from containers.conf dns_bind_port). Containers always ask port 53 of their
// gateway; with another port the firewall redirects gateway:53/udp there (netavark's
// NETAVARK-HOSTPORT-DNAT rule). Pure.
import { UsageError } from "../errors";

export const DEFAULT_DNS_PORT = 53;

/** Rust's u16::from_str, with its error texts (netavark prints them). */
function parseU16(text: string): number | string {
	const digits = text.startsWith("+") ? text.slice(1) : text;
	if (text === "") return "cannot parse integer from empty string";
	if (!/^\d+$/.test(digits)) return "invalid digit found in string";
	const n = Number(digits);
	return n > 65535 ? "number too large to fit in target type" : n;
}

/** The DNS port from an environment; throws UsageError as netavark does for a bad value. */
export function dnsPortFromEnv(env: Record<string, string | undefined>): number {
	const text = env.NETAVARK_DNS_PORT;
	if (text === undefined) return DEFAULT_DNS_PORT;
	const port = parseU16(text);
	if (typeof port === "string") throw new UsageError(`Invalid NETAVARK_DNS_PORT ${text}: ${port}`);
	// netavark would start aardvark on port 0 (a random port nobody can find); refuse instead.
	if (port === 0)
		throw new UsageError("Invalid NETAVARK_DNS_PORT 0: aardvark-dns needs a fixed port");
	return port;
}
