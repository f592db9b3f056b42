// What every netavark command shares: the global options, the environment podman passed, the
// logger, and the steps netavark takes before any network is touched (namespace check, options
// load, firewall driver, DNS port) with netavark's error texts.
import { readFileSync, statSync } from "node:fs";
import { strerror } from "../../ffi/libc";
import { dnsPortFromEnv } from "../dns/port";
import type { FirewallDriver } from "../native/attachment";
import type { GlobalOptions } from "./args";
import { fsErrorText, NetavarkError } from "./errors";
import { type Logger, makeLogger } from "./log";
import { type NetworkOptions, parseNetworkOptions } from "./schema";

export interface Context {
	global: GlobalOptions;
	env: Record<string, string | undefined>;
	log: Logger;
}

/** The per-network lock files (src/native/lock.ts) of every front end using this config dir. */
export function lockDirOf(config: string): string {
	return `${config}/ctrnet-locks`;
}

/** netavark's namespace check: the path must be there (it opens it). */
export function checkNetns(path: string): void {
	try {
		statSync(path);
	} catch (e) {
		throw new NetavarkError(`invalid namespace path: ${fsErrorText(e, strerror)}`);
	}
}

/** Podman's NetworkOptions from --file or stdin (podman writes it and closes stdin). */
export function loadOptions(ctx: Context): NetworkOptions {
	let text: string;
	try {
		text = readFileSync(ctx.global.file ?? 0, "utf8");
	} catch (e) {
		throw new NetavarkError(`failed to load network options: ${fsErrorText(e, strerror)}`);
	}
	return parseNetworkOptions(text);
}

/**
 * NETAVARK_FW as netavark 1.4 reads it, and the driver it selects. Unset (or "iptables", netavark
 * 1.4's default) is netavark's iptables layout (src/firewall/iptables), so podman's users, their
 * scripts and netavark's suite find the chains netavark would have made; "nftables" (netavark
 * 1.9's name) is ctrnet's own table (inet ctrnet), and so is "firewalld", which ctrnet does not
 * drive. Anything else netavark refuses, and so does this. Logged under netavark's own target.
 */
export function firewallDriver(ctx: Context): FirewallDriver {
	const fw = (ctx.env.NETAVARK_FW ?? "").toLowerCase();
	const log = makeLogger(ctx.env.RUST_LOG, "netavark::firewall");
	if (fw === "" || fw === "iptables") {
		log.info("Using iptables firewall driver");
		return "iptables";
	}
	if (fw === "nftables" || fw === "firewalld") {
		log.info("Using ctrnet's nftables firewall (table inet ctrnet)");
		return "nftables";
	}
	throw new NetavarkError(`Must provide a valid firewall backend, got ${fw}`);
}

export function dnsPort(ctx: Context): number {
	try {
		return dnsPortFromEnv(ctx.env);
	} catch (e) {
		throw new NetavarkError((e as Error).message);
	}
}
