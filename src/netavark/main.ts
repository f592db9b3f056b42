// The netavark front end's entry (DESIGN 11): the binary run as `netavark` (podman finds it in
// helper_binaries_dir / CONTAINERS_HELPER_BINARY_DIR) or as `ctrnet netavark …`. It answers
// as netavark 1.4 does: the setup result on stdout, `{"error": "…"}` on stdout and exit 1 on any
// failure (podman reads nothing else), logs on stderr as RUST_LOG says. ctrnet's own CLI, its
// config and its state database are never loaded: podman's options are the whole input.
import { writeErr, writeOut } from "../io";
import { ArgsError, parseArgs } from "./args";

/** The netavark version this front end speaks (podman 4.3 on Debian 12 ships 1.4.0). */
export const NETAVARK_VERSION = "1.4.0";

export async function main(argv: readonly string[]): Promise<number> {
	let inv: ReturnType<typeof parseArgs>;
	try {
		inv = parseArgs(argv);
	} catch (e) {
		if (!(e instanceof ArgsError)) throw e;
		writeErr(`error: ${e.message}\n`);
		return 2;
	}
	if (inv.kind === "help") {
		writeOut(inv.text);
		return 0;
	}
	if (inv.kind === "print-version") {
		const { VERSION } = await import("../version");
		writeOut(`netavark ${NETAVARK_VERSION} (ctrnet ${VERSION})\n`);
		return 0;
	}
	if (inv.kind === "version") {
		const { versionInfo } = await import("./version");
		const { formatVersionOutput } = await import("./result");
		writeOut(formatVersionOutput(versionInfo(NETAVARK_VERSION)));
		return 0;
	}
	const { makeLogger } = await import("./log");
	const env = process.env;
	const ctx = { global: inv.global, env, log: makeLogger(env.RUST_LOG) };
	if (ctx.log.enabled("debug")) {
		// Each data-plane step with its time, for `RUST_LOG=netavark=debug`.
		const { setNativeTrace } = await import("../native/trace");
		setNativeTrace((step, ms) => ctx.log.debug(`${step}: ${ms.toFixed(2)} ms`));
	}
	ctx.log.debug(`started at ${performance.now().toFixed(1)} ms`);
	try {
		if (inv.kind === "update") {
			const { update } = await import("./update");
			await update(ctx, inv.network, inv.dnsServers);
		} else if (inv.kind === "setup") {
			const { setup } = await import("./setup");
			writeOut(await setup(ctx, inv.netns));
		} else {
			const { teardown } = await import("./teardown");
			await teardown(ctx, inv.netns);
		}
		return 0;
	} catch (e) {
		const { describeError } = await import("./errors");
		const { strerror } = await import("../../ffi/libc");
		const { formatErrorOutput } = await import("./result");
		if (ctx.log.enabled("debug") && e instanceof Error && e.stack) ctx.log.debug(e.stack);
		writeOut(formatErrorOutput(describeError(e, strerror)));
		return 1;
	}
}
