// `ctrnet network create|ls|inspect|rm|exists`: network definitions as podman v2 kept them
// (conflists in the CNI config dir). `create` prints the conflist's path.
import * as z from "zod/mini";
import { NotFoundError, UsageError } from "../errors";
import { writeErr, writeOut } from "../io";
import { firstIssue } from "../json";
import { command } from "./command";
import { getConfig, outputFormat } from "./context";
import { printJson, printTable } from "./output";
import { runtime } from "./runtime";

const CreateFlags = z.object({
	name: z.optional(z.string()),
	driver: z._default(z.string(), "bridge"),
	subnet: z.optional(z.string()),
	gateway: z.optional(z.string()),
	ipRange: z.optional(z.string()),
	internal: z._default(z.boolean(), false),
	ipv6: z._default(z.boolean(), false),
	disableDns: z._default(z.boolean(), false),
	macvlanParent: z.optional(z.string()),
});

const create = command({
	meta: { name: "create", description: "Create a CNI network; prints the conflist path" },
	args: {
		name: {
			type: "positional",
			required: false,
			description: "network name (default: its bridge name)",
		},
		driver: { type: "string", alias: "d", description: "bridge (default) or macvlan" },
		subnet: { type: "string", description: "subnet in CIDR form (default: a free /24)" },
		gateway: { type: "string", description: "gateway address (default: the subnet's first)" },
		"ip-range": { type: "string", description: "allocate addresses from this CIDR only" },
		internal: { type: "boolean", description: "no gateway, no masquerade, no default route" },
		ipv6: { type: "boolean", description: "dual stack: needs an IPv6 --subnet" },
		"disable-dns": { type: "boolean", description: "no dnsname plugin" },
		"macvlan-parent": { type: "string", description: "host interface for --driver macvlan" },
	},
	async run({ args }) {
		const parsed = CreateFlags.safeParse({
			name: args.name || undefined,
			driver: args.driver || undefined,
			subnet: args.subnet,
			gateway: args.gateway,
			ipRange: args["ip-range"],
			internal: args.internal,
			ipv6: args.ipv6,
			disableDns: args["disable-dns"],
			macvlanParent: args["macvlan-parent"],
		});
		if (!parsed.success) throw new UsageError(firstIssue(parsed.error));
		const { createNetwork } = await import("../network");
		writeOut(`${await createNetwork(await getConfig(), parsed.data)}\n`);
	},
});

function warnProblems(errors: { file: string; message: string }[]): void {
	for (const e of errors) writeErr(`Warning: ${e.file}: ${e.message}\n`);
}

const ls = command({
	meta: { name: "ls", description: "List CNI networks" },
	args: { quiet: { type: "boolean", alias: "q", description: "names only" } },
	async run({ args }) {
		const { listNetworks } = await import("../network");
		const { networks, errors } = listNetworks(await getConfig());
		warnProblems(errors);
		const rows = [...networks.values()];
		if (args.quiet) {
			if (rows.length) writeOut(`${rows.map((n) => n.name).join("\n")}\n`);
			return;
		}
		if ((await outputFormat()) === "json") {
			printJson(
				rows.map((n) => ({
					name: n.name,
					version: n.cniVersion,
					plugins: n.plugins.map((p) => p.type),
					file: n.file,
				})),
			);
			return;
		}
		printTable(
			["NAME", "VERSION", "PLUGINS"],
			rows.map((n) => [n.name, n.cniVersion, n.plugins.map((p) => p.type).join(",")]),
		);
	},
});

const inspect = command({
	meta: { name: "inspect", description: "Print networks' conflists as a JSON array" },
	args: { name: { type: "positional", required: true, description: "network name(s)" } },
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const { listNetworks, inspectNetwork } = await import("../network");
		const { networks } = listNetworks(await getConfig());
		const out = (args._ as string[]).map((name) => {
			const list = networks.get(name);
			if (!list) throw new NotFoundError(`no such network ${name}`);
			return inspectNetwork(list);
		});
		printJson(out);
	},
});

const rm = command({
	meta: { name: "rm", description: "Remove networks: their conflists and bridge devices" },
	args: {
		name: { type: "positional", required: true, description: "network name(s)" },
		force: { type: "boolean", alias: "f", description: "also when containers use it" },
	},
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const { removeNetworkInUse } = await import("../container/network-rm");
		const rt = await runtime();
		for (const name of args._ as string[]) {
			await removeNetworkInUse(rt, name, !!args.force);
			writeOut(`${name}\n`);
		}
	},
});

const exists = command({
	meta: { name: "exists", description: "Exit 0 when the network exists, 1 when it does not" },
	args: { name: { type: "positional", required: true, description: "network name" } },
	async run({ args }) {
		const { listNetworks } = await import("../network");
		if (!listNetworks(await getConfig()).networks.has(args.name)) process.exit(1);
	},
});

export default command({
	meta: { name: "network", description: "Manage CNI network definitions" },
	subCommands: { create, ls, inspect, rm, exists },
});
