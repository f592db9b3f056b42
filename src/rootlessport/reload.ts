// The client side of podman's rootless-CNI reload socket (podman 4 libpod
// reloadRootlessRLKPortMapping): after a network connect/disconnect changed the container's
// address, tell its forwarder to dial the new one. The forwarder (ctrnet's or podman's own)
// answers "OK" or the error's text.
import { packetExchange } from "../../ffi/unix-packet";

/** The forwarder could not be told; the message is podman's. */
export class ReloadError extends Error {
	override name = "ReloadError";
}

/** Where a forwarder started with RootlessCNI serves its reload socket. */
export function reloadSocketPath(tmpDir: string, containerId: string): string {
	return `${tmpDir}/rp/${containerId}`;
}

/**
 * Switches the address the forwarder of `containerId` dials for new connections and flows to
 * `ip`. Resolves once the forwarder answered OK; throws ReloadError when it cannot be reached or
 * refuses (a refused address changes nothing: the forwarder keeps the previous one).
 */
export async function reloadChildIP(
	tmpDir: string,
	containerId: string,
	ip: string,
	timeoutMs = 5000,
): Promise<void> {
	// As Go's json.Encoder writes it: the JSON string and a newline, in one packet.
	const request = new TextEncoder().encode(`${JSON.stringify(ip)}\n`);
	let reply: string;
	try {
		const bytes = await packetExchange(reloadSocketPath(tmpDir, containerId), request, timeoutMs);
		reply = new TextDecoder().decode(bytes);
	} catch (err) {
		throw new ReloadError(
			"could not reload rootless port mappings, port forwarding may no longer work correctly: " +
				(err instanceof Error ? err.message : String(err)),
		);
	}
	if (reply !== "OK") throw new ReloadError(`port reloading failed: ${reply}`);
}
