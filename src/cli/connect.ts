import { connectContainer, disconnectContainer } from "../container/connect";
import { validateAlias, validateId } from "../container/request";
import { command } from "./command";
import { runtime } from "./runtime";

export const connect = command({
	meta: { name: "connect", description: "Connect a set-up container to one more network" },
	args: {
		network: { type: "positional", required: true, description: "network name" },
		id: { type: "positional", required: true, description: "container ID" },
		alias: { type: "string", repeat: true, description: "network alias (repeatable)" },
	},
	async run({ args }) {
		const aliases = args.alias.map(validateAlias);
		await connectContainer(
			await runtime(),
			validateId(args.network, "network name"),
			validateId(args.id),
			aliases,
		);
	},
});

export const disconnect = command({
	meta: { name: "disconnect", description: "Disconnect a container from a network" },
	args: {
		network: { type: "positional", required: true, description: "network name" },
		id: { type: "positional", required: true, description: "container ID" },
		force: { type: "boolean", alias: "f", description: "go on when the plugins fail" },
	},
	async run({ args }) {
		await disconnectContainer(
			await runtime(),
			validateId(args.network, "network name"),
			validateId(args.id),
			!!args.force,
		);
	},
});
