// `ctrnet netavark …` in ctrnet's command tree, for help only: src/main.ts hands `ctrnet
// netavark ARGS` to the front end before ctrnet's own CLI parses anything (netavark's grammar is
// not ctrnet's), so this runs only when ctrnet options come first.
import type { Command } from "../cli/command";
import { UsageError } from "../errors";

const netavark: Command = {
	meta: {
		name: "netavark",
		description:
			"Answer as netavark 1.4 for podman 4 (also when run as `netavark`); `ctrnet netavark --help`",
		hidden: true,
	},
	maxPositionals: Number.POSITIVE_INFINITY,
	run() {
		throw new UsageError(
			"netavark takes no ctrnet options: run `ctrnet netavark [netavark options] setup|teardown|version …`",
		);
	},
};

export default netavark;
