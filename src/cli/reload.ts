import { reloadable, reloadContainer } from "../container/reload";
import { validateId } from "../container/request";
import { MultiError, UsageError } from "../errors";
import { writeOut } from "../io";
import { command } from "./command";
import { runtime } from "./runtime";

export default command({
	meta: {
		name: "reload",
		description: "Set containers' networks up again, keeping IP and MAC",
	},
	args: {
		id: { type: "positional", description: "container ID(s)", required: false },
		all: { type: "boolean", description: "every container with something to reload" },
	},
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const rt = await runtime();
		if (args.all && args._.length > 0)
			throw new UsageError("--all and container IDs exclude each other");
		if (!args.all && args._.length === 0)
			throw new UsageError("reload needs container IDs or --all");
		const ids = args.all ? reloadable(rt.store.list()) : args._.map((id) => validateId(id));
		const errors: Error[] = [];
		for (const id of ids) {
			try {
				await reloadContainer(rt, id);
				writeOut(`${id}\n`);
			} catch (e) {
				errors.push(new Error(`${id}: ${(e as Error).message}`));
			}
		}
		if (errors.length > 0) throw new MultiError(errors);
	},
});
