// `netavark teardown NETNS`: the inverse of setup, from the same options (nothing is stored).
// Like netavark it goes on past errors — DNS first, then every network — and reports them all
// at the end; unlike netavark it is idempotent (a network already gone is not an error), so a
// repeated or concurrent teardown succeeds.
import { strerror } from "../../ffi/libc";
import { type Context, dnsPort, firewallDriver, loadOptions, lockDirOf } from "./context";
import { applyDns, removeChanges } from "./dns";
import { describeError, NetavarkError } from "./errors";
import { planNetworks } from "./plan";
import { joinErrors } from "./result";
import { attachRequest } from "./setup";

export async function teardown(ctx: Context, netnsPath: string): Promise<void> {
	const opts = loadOptions(ctx);
	ctx.log.debug(`options read at ${performance.now().toFixed(1)} ms`);
	const port = dnsPort(ctx);
	const errors: string[] = [];
	try {
		await applyDns(ctx, removeChanges(opts), port);
	} catch (e) {
		errors.push(describeError(e, strerror));
	}
	const firewall = firewallDriver(ctx);
	const lockDir = lockDirOf(ctx.global.config);
	const { detachNative } = await import("../native/attachment");
	for (const outcome of planNetworks(opts, false, firewall === "iptables")) {
		if ("error" in outcome) {
			errors.push(describeError(outcome.error, strerror));
			continue;
		}
		const { plan } = outcome;
		try {
			await detachNative(
				attachRequest(plan, netnsPath, lockDir, port, firewall, opts.container_id),
			);
		} catch (e) {
			errors.push(describeError(e, strerror));
		}
	}
	ctx.log.debug(`done at ${performance.now().toFixed(1)} ms`);
	if (errors.length > 0) throw new NetavarkError(joinErrors(errors));
}
