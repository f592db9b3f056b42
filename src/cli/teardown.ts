import { validateId } from "../container/request";
import { teardownById } from "../container/teardown";
import { MultiError } from "../errors";
import { command } from "./command";
import { runtime } from "./runtime";

export default command({
	meta: { name: "teardown", description: "Remove containers' networks (idempotent)" },
	args: {
		id: { type: "positional", description: "container ID(s)", required: true },
		"keep-netns": { type: "boolean", description: "leave a namespace ctrnet created in place" },
	},
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const ids = args._.map((id) => validateId(id));
		const rt = await runtime();
		const errors: Error[] = [];
		for (const id of ids) {
			const errs = await teardownById(rt, id, { keepNetns: !!args["keep-netns"], event: true });
			errors.push(...errs.map((e) => new Error(`${id}: ${e.message}`)));
		}
		if (errors.length > 0) throw new MultiError(errors);
	},
});
