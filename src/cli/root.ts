// The command tree. Subcommands load lazily so that each run pays only for what it uses.
import { VERSION } from "../version";
import type { Command } from "./command";

export const root: Command = {
	meta: { name: "ctrnet", description: `Container networking for Linux (${VERSION})` },
	subCommands: {
		version: () => import("./version").then((m) => m.default),
		info: () => import("./info").then((m) => m.default),
		netns: () => import("./netns").then((m) => m.default),
		cni: () => import("./cni").then((m) => m.default),
		network: () => import("./network").then((m) => m.default),
		setup: () => import("./setup").then((m) => m.default),
		teardown: () => import("./teardown").then((m) => m.default),
		reload: () => import("./reload").then((m) => m.default),
		connect: () => import("./connect").then((m) => m.connect),
		disconnect: () => import("./connect").then((m) => m.disconnect),
		inspect: () => import("./inspect").then((m) => m.default),
		port: () => import("./port").then((m) => m.default),
		stats: () => import("./stats").then((m) => m.default),
		ps: () => import("./ps").then((m) => m.default),
		events: () => import("./events").then((m) => m.default),
		gc: () => import("./gc").then((m) => m.default),
		hook: () => import("./hook").then((m) => m.default),
		rootless: () => import("./rootless").then((m) => m.rootless),
		"rootless-worker": () => import("./rootless").then((m) => m.worker),
		netavark: () => import("../netavark/command").then((m) => m.default),
	},
};
