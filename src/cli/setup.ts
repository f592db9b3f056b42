import { buildInspect } from "../container/inspect";
import { parseSetup, RawSetupSchema } from "../container/request";
import { setupContainer } from "../container/setup";
import { command } from "./command";
import { getConfig } from "./context";
import { NETWORK_FLAGS, networkFlags } from "./flags";
import { printJson } from "./output";
import { runtime } from "./runtime";

export default command({
	meta: { name: "setup", description: "Give a container its network; prints its inspect object" },
	args: {
		id: { type: "positional", description: "container ID", required: true },
		netns: { type: "string", description: "use this network namespace (never deleted by ctrnet)" },
		pid: { type: "string", description: "use (and pin) the network namespace of this process" },
		...NETWORK_FLAGS,
	},
	async run({ args }) {
		const config = await getConfig();
		const raw = RawSetupSchema.parse({
			id: args.id,
			netns: args.netns,
			pid: args.pid,
			...networkFlags(args),
		});
		const req = parseSetup(raw, config.defaultNetwork, config.rootless, config.rootlessNetwork);
		const c = await setupContainer(await runtime(), req);
		printJson(buildInspect(c));
	},
});
