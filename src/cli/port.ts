import { validateId } from "../container/request";
import { NotFoundError } from "../errors";
import { writeOut } from "../io";
import { formatMapping, hostAddress, parsePortFilter } from "../ports/parse";
import { command } from "./command";
import { outputFormat } from "./context";
import { printJson } from "./output";
import { runtime } from "./runtime";

export default command({
	meta: { name: "port", description: "List a container's published ports" },
	args: {
		id: { type: "positional", required: true, description: "container ID" },
		port: { type: "positional", required: false, description: "PORT[/PROTO]" },
	},
	async run({ args }) {
		const filter = args.port === undefined ? undefined : parsePortFilter(args.port);
		const rt = await runtime();
		const c = rt.store.mustGet(validateId(args.id));
		const hits = filter
			? c.ports.filter((p) => p.containerPort === filter.port && p.protocol === filter.protocol)
			: c.ports;
		if (filter && hits.length === 0)
			throw new NotFoundError(`failed to find published port "${filter.port}/${filter.protocol}"`);
		if ((await outputFormat()) === "json") return printJson(hits);
		writeOut(hits.map((h) => `${filter ? hostAddress(h) : formatMapping(h)}\n`).join(""));
	},
});
