// `netavark update NETWORK --network-dns-servers IP…` (netavark 1.4; podman 4.3 never calls it):
// the network's upstream resolvers in its aardvark-dns config, and aardvark told.
import { strerror } from "../../ffi/libc";
import { canonicalIp } from "../netconf/validate";
import { type Context, dnsPort } from "./context";
import { applyDns } from "./dns";
import { describeError, NetavarkError } from "./errors";

export async function update(ctx: Context, network: string, servers: string[]): Promise<void> {
	const port = dnsPort(ctx);
	try {
		const dnsServers = servers.map((s) => canonicalIp(s, "dns server"));
		await applyDns(ctx, [{ action: "servers", network: { name: network, dnsServers } }], port);
	} catch (e) {
		throw new NetavarkError(`unable to modify network dns servers: ${describeError(e, strerror)}`);
	}
}
