// ctrnet netns create|ls|rm|inspect — named network namespaces, interchangeable with `ip netns`.
import { MultiError } from "../errors";
import { writeOut } from "../io";
import { createNetns } from "../netns/create";
import { formatInspect } from "../netns/format";
import { inspectNetns } from "../netns/inspect";
import { listNetns } from "../netns/list";
import { resolveNetnsRef } from "../netns/names";
import { removeNetns } from "../netns/remove";
import { command } from "./command";
import { getConfig, outputFormat } from "./context";
import { printJson, printTable } from "./output";

const create = command({
	meta: {
		name: "create",
		description: "Create a named netns (random cni-… name if none); prints its path",
	},
	args: { name: { type: "positional", required: false, description: "name of the netns" } },
	async run({ args }) {
		const { netnsDir } = await getConfig();
		const name = typeof args.name === "string" ? args.name : undefined;
		writeOut(`${createNetns(netnsDir, name)}\n`);
	},
});

const ls = command({
	meta: { name: "ls", description: "List the netns in the netns dir (ctrnet's and ip netns')" },
	async run() {
		const { netnsDir } = await getConfig();
		const entries = listNetns(netnsDir);
		if ((await outputFormat()) === "json") return printJson(entries);
		printTable(
			["NAME", "INODE", "PATH"],
			entries.map((e) => [
				e.name,
				e.inode === undefined ? "(not mounted)" : String(e.inode),
				e.path,
			]),
		);
	},
});

const rm = command({
	meta: { name: "rm", description: "Remove netns by NAME or PATH (unmount and unlink)" },
	args: { name: { type: "positional", required: true, description: "NAME|PATH..." } },
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const { netnsDir } = await getConfig();
		// Validate every argument first, so a bad one changes nothing; then go on past failures.
		const targets = args._.map((ref) => resolveNetnsRef(String(ref), netnsDir));
		const errors: Error[] = [];
		for (const t of targets) {
			try {
				removeNetns(t.path);
			} catch (e) {
				errors.push(e as Error);
			}
		}
		if (errors.length === 1) throw errors[0];
		if (errors.length > 1) throw new MultiError(errors);
	},
});

const inspect = command({
	meta: { name: "inspect", description: "Links, addresses and counters inside a netns" },
	args: { name: { type: "positional", required: true, description: "NAME|PATH" } },
	async run({ args }) {
		const { netnsDir } = await getConfig();
		const t = resolveNetnsRef(String(args.name), netnsDir);
		const ns = { name: t.name, ...inspectNetns(t.path) };
		if ((await outputFormat()) === "json") return printJson(ns);
		writeOut(formatInspect(ns));
	},
});

export default command({
	meta: { name: "netns", description: "Create, list, inspect and remove network namespaces" },
	subCommands: { create, ls, list: ls, rm, inspect },
});
