// The command tree. Subcommands load lazily so that each run pays only for what it uses.
import type { CommandDef } from "citty";
import { VERSION } from "../version";

export const root: CommandDef = {
	meta: { name: "ctrnet", version: VERSION, description: "Container networking for Linux" },
	subCommands: {
		version: () => import("./version").then((m) => m.default),
		info: () => import("./info").then((m) => m.default),
		netns: () => import("./netns").then((m) => m.default),
		cni: () => import("./cni").then((m) => m.default),
		network: () => import("./network").then((m) => m.default),
	},
};
