// `ctrnet rootless exec -- CMD…`: runs CMD in the user's rootless user namespace (made on first
// need, with its network namespace and slirp4netns), as root there — the way to start a rootless
// container that can then join rootless networks (`setup --pid`), like `podman unshare`. The
// process becomes CMD (exec): its pid is the container's.
// `ctrnet rootless-worker OP` (hidden): what ctrnet does inside that namespace (src/rootless/worker).
import { UsageError } from "../errors";
import { command } from "./command";
import { getConfig } from "./context";

const exec = command({
	meta: { name: "exec", description: "Run a command in the rootless user namespace (as its root)" },
	args: { cmd: { type: "positional", required: true, description: "-- CMD [ARG...]" } },
	maxPositionals: Number.POSITIVE_INFINITY,
	async run({ args }) {
		const cfg = await getConfig();
		if (!cfg.rootless) throw new UsageError("ctrnet rootless exec is for unprivileged users");
		const { ensureRootlessNetns, enterArgs } = await import("../rootless/netns");
		const r = await ensureRootlessNetns(cfg);
		const argv = [...enterArgs(r, []), ...args._];
		const nsenter = Bun.which("nsenter", { PATH: `${process.env.PATH ?? ""}:/usr/bin` }) as string;
		const { execve } = await import("../../ffi/libc");
		const env = Object.fromEntries(
			Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
		);
		execve(nsenter, argv, env);
	},
});

export const rootless = command({
	meta: { name: "rootless", description: "The user's rootless network namespace" },
	subCommands: { exec },
});

export const worker = command({
	meta: {
		name: "rootless-worker",
		description: "(internal) work inside the rootless netns",
		hidden: true,
	},
	args: {
		op: { type: "positional", required: true, description: "init|native-attach|native-detach" },
	},
	async run({ args }) {
		const { runWorker } = await import("../rootless/worker");
		await runWorker(args.op);
	},
});
