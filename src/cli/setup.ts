import { buildInspect } from "../container/inspect";
import { parseSetup, RawSetupSchema } from "../container/request";
import { setupContainer } from "../container/setup";
import { command } from "./command";
import { getConfig } from "./context";
import { networkFlags } from "./flags";
import { printJson } from "./output";
import { runtime } from "./runtime";

export default command({
	meta: { name: "setup", description: "Give a container its network; prints its inspect object" },
	args: {
		id: { type: "positional", description: "container ID", required: true },
		name: { type: "string", description: "container name (default: the ID)" },
		netns: { type: "string", description: "use this network namespace (never deleted by ctrnet)" },
		pid: { type: "string", description: "use (and pin) the network namespace of this process" },
		network: {
			type: "string",
			description:
				"bridge|none|host|slirp4netns[:opts]|ns:PATH|container:ID|NAME[,NAME] (repeatable)",
		},
		ip: { type: "string", description: "static IP on the first network" },
		mac: { type: "string", description: "static MAC on the first network" },
		publish: {
			type: "string",
			alias: "p",
			description: "[[HOSTIP:][HOSTPORT]:]PORT[/PROTO] (repeatable)",
		},
		alias: { type: "string", description: "network alias (repeatable)" },
	},
	async run({ args, rawArgs }) {
		const config = await getConfig();
		const raw = RawSetupSchema.parse({
			id: args.id,
			netns: args.netns,
			pid: args.pid,
			...networkFlags(args, rawArgs),
		});
		const req = parseSetup(raw, config.defaultNetwork, config.rootless);
		const c = await setupContainer(await runtime(), req);
		printJson(buildInspect(c));
	},
});
