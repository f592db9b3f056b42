// The effectful side of the firewall: a libnftables context and the few decisions that need the
// kernel's answer. The normal setup or teardown of a container is ONE nft transaction of element
// adds/deletes; only when that fails (no table yet, a clash, an element already gone) do we list
// state and run a second, still single, transaction.
import { ERRNO } from "../../ffi/errno";
import { strerror } from "../../ffi/libc";
import { inNetns } from "../../ffi/netns";
import {
	LIBNFTABLES,
	NFT_CTX_OUTPUT_JSON,
	NftablesMissing,
	type NftContext,
	openNftContext,
} from "../../ffi/nftables";
import { ConflictError, UsageError } from "../errors";
import {
	addCommands,
	type Element,
	networkElements,
	portElements,
	removeCommands,
	teardownElements,
} from "./elements";
import { hostForwardHandles, portMapElements } from "./listing";
import {
	baseCommands,
	type HostFamily,
	type HostForwardChain,
	removeBaseCommands,
	removeOrphanHostForwardCommands,
	TABLE,
	wipeCommands,
} from "./ruleset";
import type { FwNetwork, FwPort } from "./types";

export interface Firewall {
	/** Runs nft commands as one transaction (all or nothing); throws with nft's message. */
	applyTransaction(commands: string): void;
	/**
	 * A container joins `net` publishing `ports`; creates the table on first use. A port whose
	 * host side already maps elsewhere is refused (ConflictError), unless `sameContainer` says
	 * the address it maps to is this container's own (on another network): then it stays as is.
	 */
	setup(
		net: FwNetwork,
		ports: readonly FwPort[],
		opts?: {
			container?: string;
			/** The container's full ID (the iptables driver's port rules carry it, as netavark's). */
			containerId?: string;
			sameContainer?: (containerIp: string) => boolean;
		},
	): void;
	/**
	 * A container leaves `net`: exactly its elements go (also when some are already gone). With
	 * `lastOnNetwork` the network's elements go too, and the whole table (with our iptables
	 * FORWARD rules) when no other network is left; `baseRemoved` says whether that happened.
	 */
	teardown(
		net: FwNetwork,
		ports: readonly FwPort[],
		opts: { lastOnNetwork: boolean; containerId?: string },
	): { baseRemoved: boolean };
	/** Removes everything ctrnet has in the firewall (tests, gc). */
	wipe(): void;
	close(): void;
}

/** An nft failure that is not the user's doing: the message is nft's own. */
export class NftError extends Error {
	override name = "NftError";
}

function nftMessage(what: string, error: string): string {
	// nft prints "Error: …", the failing command and a caret line; the first two say it all.
	const lines = error.trim().split("\n").slice(0, 2);
	return `nftables: ${what}: ${lines.map((l) => l.trim().slice(0, 300)).join(" in: ")}`;
}

/** "tcp port 8080 on 10.0.0.1" / "… on every IPv4 address", from a port map element. */
function describePort(e: Element): string {
	const parts = e.key.split(" . ");
	const [proto, port] = parts.slice(-2);
	const on = parts.length === 3 ? parts[0] : `every IPv${e.set.includes("6") ? 6 : 4} address`;
	return `${proto} port ${port} on ${on}`;
}

function open(netnsPath: string | undefined, library: string): NftContext {
	try {
		const make = () => openNftContext(library);
		return netnsPath ? inNetns(netnsPath, make) : make();
	} catch (err) {
		if (err instanceof NftablesMissing) {
			throw new UsageError(
				`the native network backend needs ${library} (Debian/Ubuntu package libnftables1): ${err.message}`,
			);
		}
		throw err;
	}
}

/**
 * A firewall bound to one network namespace: the caller's current one, or `netnsPath` (the
 * context's netlink socket is opened there and stays there). `library` is for tests.
 */
export function openFirewall(netnsPath?: string, opts: { library?: string } = {}): Firewall {
	const ctx = open(netnsPath, opts.library ?? LIBNFTABLES);

	const mustRun = (commands: string, what: string) => {
		const r = ctx.run(commands);
		if (!r.ok) throw new NftError(nftMessage(what, r.error));
	};

	const listJson = (command: string): string | undefined => {
		ctx.setOutputFlags(NFT_CTX_OUTPUT_JSON);
		try {
			const r = ctx.run(command);
			return r.ok ? r.output : undefined;
		} finally {
			ctx.setOutputFlags(0);
		}
	};

	const hostForwardChains = (): HostForwardChain[] => {
		const out: HostForwardChain[] = [];
		for (const family of ["ip", "ip6"] as HostFamily[]) {
			const json = listJson(`list chain ${family} filter FORWARD`);
			if (json !== undefined) out.push({ family, handles: hostForwardHandles(json) });
		}
		return out;
	};

	const tableJson = () => listJson(`list table ${TABLE}`);

	/**
	 * Port elements of ours whose key now holds another container's data; `json` is the table's
	 * listing when the caller has one already.
	 */
	const clashes = (
		mine: readonly Element[],
		json = tableJson(),
	): { mine: Element; theirs: Element }[] => {
		if (json === undefined) return [];
		const current = portMapElements(json);
		return mine.flatMap((e) => {
			const theirs = current.get(`${e.set} ${e.key}`);
			return theirs && e.data !== undefined && theirs.data !== e.data ? [{ mine: e, theirs }] : [];
		});
	};

	const removeBaseIfUnused = (): boolean => {
		let error = "";
		// Each pass lists our FORWARD rules afresh: concurrent teardowns and setups may have
		// removed or replaced them since the last look.
		for (let attempt = 0; attempt < 5; attempt++) {
			const hostForward = hostForwardChains();
			const r = ctx.run(removeBaseCommands(hostForward));
			if (r.ok) return true;
			// Another network still has elements: the table stays.
			if (r.error.includes(strerror(ERRNO.EBUSY))) return false;
			// The table is gone already (a concurrent teardown), or a rule moved; our FORWARD
			// rules go only if the table is still gone.
			const orphans = ctx.run(removeOrphanHostForwardCommands(hostForward));
			if (orphans.ok) return true;
			error = orphans.error;
		}
		throw new NftError(nftMessage("removing the table", error));
	};

	return {
		applyTransaction(commands) {
			mustRun(commands, "transaction");
		},

		setup(net, ports, opts = {}) {
			const network = networkElements(net);
			const mine = portElements(net, ports, opts.container);
			let elements = addCommands([...network, ...mine]);
			if (ctx.run(elements).ok) return;
			// No table yet, or an outdated one, or a clash. Create/refresh the base in the same
			// transaction as the elements; retry when a concurrent teardown moved the FORWARD rule.
			let error = "";
			let kept = new Set<string>();
			for (let attempt = 0; attempt < 4; attempt++) {
				const r = ctx.run(`${baseCommands(hostForwardChains())}\n${elements}`);
				if (r.ok) return;
				error = r.error;
				const found = clashes(mine);
				const foreign = found.find(
					(c) => !opts.sameContainer?.(c.theirs.data?.split(" . ")[0] ?? ""),
				);
				if (foreign) {
					throw new ConflictError(
						`${describePort(foreign.mine)} is already published to ${foreign.theirs.data?.replace(" . ", " port ")}`,
					);
				}
				if (found.length > 0) {
					// This container's own ports through another network: they stay where they are.
					kept = new Set([...kept, ...found.map((c) => `${c.mine.set} ${c.mine.key}`)]);
					const left = mine.filter((e) => !kept.has(`${e.set} ${e.key}`));
					elements = addCommands([...network, ...left]);
				}
			}
			throw new NftError(nftMessage(`setting up network ${net.name}`, error));
		},

		teardown(net, ports, opts) {
			const elements = teardownElements(net, ports, opts);
			const r = ctx.run(removeCommands(elements));
			const json = r.ok ? undefined : tableJson();
			if (json !== undefined) {
				// A host port that now maps to another container is not ours to delete any more.
				const taken = new Set(clashes(elements, json).map((c) => c.mine));
				const mine = elements.filter((e) => !taken.has(e));
				if (mine.length) mustRun(removeCommands(mine), `tearing down network ${net.name}`);
			}
			return { baseRemoved: opts.lastOnNetwork ? removeBaseIfUnused() : false };
		},

		wipe() {
			mustRun(wipeCommands(hostForwardChains()), "wiping ctrnet's firewall");
		},

		close() {
			ctx.free();
		},
	};
}

let host: Firewall | undefined;

/**
 * The process's firewall in the namespace it is first called from (the host's, for ctrnet; the
 * rootless namespace for the netavark front end): one context, reused by every transaction.
 */
export function hostFirewall(): Firewall {
	// CTRNET_LIBNFTABLES: a library installed outside the linker's path (and how tests make it missing).
	const library = process.env.CTRNET_LIBNFTABLES;
	host ??= openFirewall(undefined, library ? { library } : {});
	return host;
}

/** Runs nft commands as one transaction on hostFirewall(). */
export function applyTransaction(commands: string): void {
	hostFirewall().applyTransaction(commands);
}
