import { inspectView } from "../container/inspect";
import { validateId } from "../container/request";
import { command } from "./command";
import { printJson } from "./output";
import { runtime } from "./runtime";

export default command({
	meta: {
		name: "inspect",
		description: "Docker/podman-style network settings of containers (JSON)",
	},
	args: { id: { type: "positional", required: true, description: "container ID(s)" } },
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const rt = await runtime();
		const lookup = (id: string) => rt.store.get(id);
		printJson(args._.map((id) => inspectView(rt.store.mustGet(validateId(id)), lookup)));
	},
});
