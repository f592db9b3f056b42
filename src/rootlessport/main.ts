// The rootless port forwarder's entry point (re-exec of this binary, DESIGN 6).
// Contract with the parent: config JSON on stdin; on failure one human-readable line on stdout
// and exit 1 (podman prints it as `rootlessport <line>`); debug lines on stderr.
import { writeOut } from "../io";
import { ConfigError, parseConfig } from "./config";

export async function main(_args: string[]): Promise<number> {
	const input = await Bun.stdin.text();
	let config: ReturnType<typeof parseConfig>;
	try {
		config = parseConfig(JSON.parse(input));
	} catch (err) {
		const msg = err instanceof ConfigError ? err.message : `cannot parse config: ${String(err)}`;
		writeOut(`${msg}\n`);
		return 1;
	}
	const { forward } = await import("./forward");
	return forward(config);
}
