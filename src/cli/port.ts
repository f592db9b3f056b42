import { validateId } from "../container/request";
import { NotFoundError, UsageError } from "../errors";
import { writeOut } from "../io";
import { formatMapping, hostAddress } from "../ports/parse";
import { command } from "./command";
import { runtime } from "./runtime";

export default command({
	meta: { name: "port", description: "List a container's published ports" },
	args: {
		id: { type: "positional", required: true, description: "container ID" },
		port: { type: "positional", required: false, description: "PORT[/PROTO]" },
	},
	async run({ args }) {
		const rt = await runtime();
		const c = rt.store.get(validateId(args.id));
		if (!c) throw new NotFoundError(`no container with ID ${JSON.stringify(args.id)}`);
		if (args.port === undefined) {
			writeOut(c.ports.map((m) => `${formatMapping(m)}\n`).join(""));
			return;
		}
		const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(args.port);
		if (!m) throw new UsageError(`invalid port ${JSON.stringify(args.port)}: PORT[/tcp|udp|sctp]`);
		const port = Number(m[1]);
		const proto = (m[2] ?? "tcp").toLowerCase();
		const hits = c.ports.filter((p) => p.containerPort === port && p.protocol === proto);
		if (hits.length === 0)
			throw new NotFoundError(`failed to find published port "${port}/${proto}"`);
		writeOut(hits.map((h) => `${hostAddress(h)}\n`).join(""));
	},
});
