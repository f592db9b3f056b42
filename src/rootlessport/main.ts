// The rootless port forwarder's entry point (re-exec of this binary, DESIGN 6).
// Contract with the parent: config JSON on stdin; on failure one human-readable line on stdout
// and exit 1 (podman prints it as `rootlessport <line>`); debug lines on stderr.
import { writeOut } from "../io";
import { ConfigError, parseConfig } from "./config";

export async function main(_args: string[]): Promise<number> {
	const input = await Bun.stdin.text();
	let json: unknown;
	try {
		json = JSON.parse(input);
	} catch (err) {
		writeOut(`rootlessport config is not JSON: ${err instanceof Error ? err.message : err}\n`);
		return 1;
	}
	let config: ReturnType<typeof parseConfig>;
	try {
		config = parseConfig(json);
	} catch (err) {
		writeOut(`${err instanceof ConfigError ? err.message : String(err)}\n`);
		return 1;
	}
	const { forward } = await import("./forward");
	return forward(config);
}
