// The rootless port forwarder's entry point (re-exec of this binary, DESIGN 6).
// Contract with the parent: config JSON on stdin; on failure one human-readable line on stdout
// and exit 1 (podman prints it as `rootlessport <line>`).
import { writeOut } from "../io";

export async function main(_args: string[]): Promise<number> {
	const input = await Bun.stdin.text();
	let config: unknown;
	try {
		config = JSON.parse(input);
	} catch {
		writeOut("rootlessport: config on stdin is not JSON\n");
		return 1;
	}
	const { forward } = await import("./forward");
	return forward(config);
}
