import { buildInspect, type InspectObject } from "../container/inspect";
import { validateId } from "../container/request";
import type { Runtime } from "../container/runtime";
import { NotFoundError } from "../errors";
import { command } from "./command";
import { printJson } from "./output";
import { runtime } from "./runtime";

/** A container sharing another's namespace shows that one's networks (podman's NetNsCtr rule). */
export function inspectOne(rt: Runtime, id: string): InspectObject {
	const c = rt.store.get(validateId(id));
	if (!c) throw new NotFoundError(`no container with ID ${JSON.stringify(id)}`);
	if (c.mode.mode === "container") {
		const other = rt.store.get(c.mode.id);
		if (other) return { ...buildInspect(other), Id: c.id, Name: c.name };
	}
	return buildInspect(c);
}

export default command({
	meta: {
		name: "inspect",
		description: "Docker/podman-style network settings of containers (JSON)",
	},
	args: { id: { type: "positional", required: true, description: "container ID(s)" } },
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const rt = await runtime();
		printJson(args._.map((id) => inspectOne(rt, id)));
	},
});
