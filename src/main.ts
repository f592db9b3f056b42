// Entry point. The rootlessport and netavark dispatches come before anything else (DESIGN 6): a re-executed
// forwarder must not be confused by the CLI. The CLI frame is small and loaded eagerly; commands,
// citty, zod and everything heavy load lazily (each command is its own chunk).
import { run } from "./cli/run";
import { isNetavarkInvocation } from "./netavark/dispatch";
import { isRootlessportInvocation } from "./rootlessport/dispatch";

const args = process.argv.slice(2);
let code: number;
if (isRootlessportInvocation(process.argv0, args)) {
	const { main } = await import("./rootlessport/main");
	code = await main(args[0] === "rootlessport" ? args.slice(1) : args);
} else if (isNetavarkInvocation(process.argv0, args)) {
	// podman's network backend (DESIGN 11): netavark's grammar, none of ctrnet's CLI.
	const { main } = await import("./netavark/main");
	code = await main(args[0] === "netavark" ? args.slice(1) : args);
} else {
	code = await run(args);
}
process.exit(code);
