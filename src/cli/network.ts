// `ctrnet network create|ls|inspect|rm|exists` on the selected backend's store (DESIGN 10):
// podman v2 conflists in the CNI config dir (cni), or podman 4 network files in the network config
// dir (native). `create` prints the new file's path.
import * as z from "zod/mini";
import type { Config } from "../config/schema";
import { NotFoundError, UsageError } from "../errors";
import { writeErr, writeOut } from "../io";
import { firstIssue } from "../json";
import { command } from "./command";
import { getConfig, outputFormat } from "./context";
import { printJson, printTable } from "./output";
import { runtime } from "./runtime";

const CniCreateFlags = z.object({
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

const isNative = (cfg: Config) => cfg.networkBackend === "native";

const create = command({
	meta: { name: "create", description: "Create a network; prints its file's path" },
	args: {
		name: {
			type: "positional",
			required: false,
			description: "network name (default: its bridge name)",
		},
		driver: { type: "string", alias: "d", description: "bridge (default) or macvlan" },
		subnet: {
			type: "string",
			repeat: true,
			description: "CIDR (default: a free /24); twice: dual stack",
		},
		gateway: { type: "string", repeat: true, description: "gateway of the n-th subnet" },
		"ip-range": { type: "string", repeat: true, description: "allocate from this CIDR only" },
		internal: { type: "boolean", description: "no way out: no masquerade, no default route" },
		ipv6: { type: "boolean", description: "dual stack (native: an IPv6 subnet is picked if none)" },
		"disable-dns": { type: "boolean", description: "no container DNS on this network" },
		"macvlan-parent": { type: "string", description: "host interface for --driver macvlan" },
		opt: {
			type: "string",
			alias: "o",
			repeat: true,
			description:
				"native: mtu=N, isolate=true|false, parent=IF, mode=bridge|private|vepa|passthru",
		},
		label: { type: "string", repeat: true, description: "native: KEY=VALUE" },
		"interface-name": { type: "string", description: "native: the bridge (or macvlan parent)" },
		"ipam-driver": { type: "string", description: "native: host-local (default) or none" },
	},
	async run({ args }) {
		const cfg = await getConfig();
		if (isNative(cfg)) {
			const { createNativeNetwork } = await import("../netconf/manage");
			const opts = [...args.opt];
			if (args["macvlan-parent"]) opts.push(`parent=${args["macvlan-parent"]}`);
			const path = await createNativeNetwork(cfg, {
				name: args.name || undefined,
				driver: args.driver || undefined,
				subnets: args.subnet,
				gateways: args.gateway,
				ipRanges: args["ip-range"],
				internal: args.internal,
				ipv6: args.ipv6,
				disableDns: args["disable-dns"],
				options: opts,
				labels: args.label,
				interfaceName: args["interface-name"],
				ipamDriver: args["ipam-driver"],
			});
			writeOut(`${path}\n`);
			return;
		}
		const nativeOnly = [
			["-o/--opt", args.opt.length > 0],
			["--label", args.label.length > 0],
			["--interface-name", args["interface-name"] !== undefined],
			["--ipam-driver", args["ipam-driver"] !== undefined],
			["a second --subnet", args.subnet.length > 1],
			["a second --gateway", args.gateway.length > 1],
			["a second --ip-range", args["ip-range"].length > 1],
		] as const;
		for (const [flag, given] of nativeOnly)
			if (given)
				throw new UsageError(`${flag} needs the native backend (--network-backend native)`);
		const parsed = CniCreateFlags.safeParse({
			name: args.name || undefined,
			driver: args.driver || undefined,
			subnet: args.subnet[0],
			gateway: args.gateway[0],
			ipRange: args["ip-range"][0],
			internal: args.internal,
			ipv6: args.ipv6,
			disableDns: args["disable-dns"],
			macvlanParent: args["macvlan-parent"],
		});
		if (!parsed.success) throw new UsageError(firstIssue(parsed.error));
		const { createNetwork } = await import("../network");
		writeOut(`${await createNetwork(cfg, parsed.data)}\n`);
	},
});

function warnProblems(errors: { file: string; message: string }[]): void {
	for (const e of errors) writeErr(`Warning: ${e.file}: ${e.message}\n`);
}

const ls = command({
	meta: { name: "ls", description: "List networks" },
	args: { quiet: { type: "boolean", alias: "q", description: "names only" } },
	async run({ args }) {
		const cfg = await getConfig();
		const json = (await outputFormat()) === "json";
		let names: string[];
		let table: () => void;
		if (isNative(cfg)) {
			const { listNativeNetworks } = await import("../netconf/manage");
			const { networks, problems } = listNativeNetworks(cfg);
			warnProblems(problems);
			names = networks.map((n) => n.name);
			if (json && !args.quiet) {
				const { networkDoc } = await import("../netconf/format");
				return printJson(networks.map(networkDoc));
			}
			table = () =>
				printTable(
					["NAME", "DRIVER", "SUBNETS", "INTERFACE"],
					networks.map((n) => [
						n.name,
						n.driver,
						n.subnets.map((s) => s.subnet).join(","),
						n.network_interface,
					]),
				);
		} else {
			const { listNetworks } = await import("../network");
			const { networks, errors } = listNetworks(cfg);
			warnProblems(errors);
			const rows = [...networks.values()];
			names = rows.map((n) => n.name);
			if (json && !args.quiet) {
				return printJson(
					rows.map((n) => ({
						name: n.name,
						version: n.cniVersion,
						plugins: n.plugins.map((p) => p.type),
						file: n.file,
					})),
				);
			}
			table = () =>
				printTable(
					["NAME", "VERSION", "PLUGINS"],
					rows.map((n) => [n.name, n.cniVersion, n.plugins.map((p) => p.type).join(",")]),
				);
		}
		if (args.quiet) {
			if (names.length) writeOut(`${names.join("\n")}\n`);
			return;
		}
		table();
	},
});

const inspect = command({
	meta: { name: "inspect", description: "Print networks' definitions as a JSON array" },
	args: { name: { type: "positional", required: true, description: "network name(s)" } },
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const cfg = await getConfig();
		if (isNative(cfg)) {
			const { getNetworkDef } = await import("../netconf/store");
			const { networkDoc } = await import("../netconf/format");
			return printJson(args._.map((n) => networkDoc(getNetworkDef(cfg.networkConfigDir, n))));
		}
		const { listNetworks, inspectNetwork } = await import("../network");
		const { networks } = listNetworks(cfg);
		printJson(
			args._.map((name) => {
				const list = networks.get(name);
				if (!list) throw new NotFoundError(`no such network ${name}`);
				return inspectNetwork(list);
			}),
		);
	},
});

const rm = command({
	meta: { name: "rm", description: "Remove networks: their files and bridge devices" },
	args: {
		name: { type: "positional", required: true, description: "network name(s)" },
		force: { type: "boolean", alias: "f", description: "also when containers use it" },
	},
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const { removeNetworkInUse } = await import("../container/network-rm");
		const rt = await runtime();
		for (const name of args._) {
			await removeNetworkInUse(rt, name, args.force);
			writeOut(`${name}\n`);
		}
	},
});

const exists = command({
	meta: { name: "exists", description: "Exit 0 when the network exists, 1 when it does not" },
	args: { name: { type: "positional", required: true, description: "network name" } },
	async run({ args }) {
		const cfg = await getConfig();
		let found: boolean;
		if (isNative(cfg)) {
			const { listNativeNetworks } = await import("../netconf/manage");
			found = listNativeNetworks(cfg).networks.some((n) => n.name === args.name);
		} else {
			const { listNetworks } = await import("../network");
			found = listNetworks(cfg).networks.has(args.name);
		}
		if (!found) process.exit(1);
	},
});

export default command({
	meta: { name: "network", description: "Manage network definitions (of the selected backend)" },
	subCommands: { create, ls, inspect, rm, exists },
});
