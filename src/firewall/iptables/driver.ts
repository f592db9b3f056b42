// The iptables firewall driver: netavark 1.4's iptables layout (layout.ts), written in iptables-nft's
// own encoding (expr.ts) straight through nf_tables, one transaction per family and operation. No
// iptables process is run: each would cost milliseconds, and iptables-nft's exit waits for the
// kernel to free the old ruleset (an RCU grace period) once more.
//
// Like netavark, a rule is added only when missing (append, or insert at its position) and removed
// by matching; unlike netavark's sequence of iptables calls, a change is atomic and concurrent
// runs are safe: each transaction carries the ruleset generation its decisions were made on,
// and the kernel refuses it (ERESTART) if anything changed meanwhile — then we look again. Our
// own writers queue on a lock file first, so they do not keep refusing each other (100 setups at
// once: some failed 50 retries in a row without it); the generation covers every other writer.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { ERRNO } from "../../../ffi/errno";
import { lockFileSync } from "../../files/lock";
import type { Family } from "../../ip/address";
import { contains, parseSubnet } from "../../ip/cidr";
import { NetlinkError } from "../../netlink/error";
import {
	type BaseChainSpec,
	dumpChains,
	dumpRules,
	NFPROTO_IPV4,
	NFPROTO_IPV6,
	type NftChange,
	type NftRule,
	nftTransaction,
	openNetfilter,
	ruleGeneration,
} from "../../netlink/nftables";
import type { NetlinkSocket } from "../../netlink/socket";
import type { Firewall } from "../apply";
import type { FwNetwork, FwPort } from "../types";
import { type Expr, fingerprint, fingerprintOf, needlesOf } from "./expr";
import {
	forwards,
	type LayoutChain,
	type LayoutRule,
	networkChains,
	portChains,
	subnetsOf,
} from "./layout";

/** The built-in chains netavark's rules use, as iptables-nft creates them. */
const BASE_CHAINS: Record<string, BaseChainSpec> = {
	"filter FORWARD": { type: "filter", hook: 2, priority: 0 },
	"nat PREROUTING": { type: "nat", hook: 0, priority: -100 },
	"nat OUTPUT": { type: "nat", hook: 3, priority: -100 },
	"nat POSTROUTING": { type: "nat", hook: 4, priority: 100 },
};

const ATTEMPTS = 50;

/** A listed rule: its raw expressions, and their fingerprint, decoded when first asked for. */
interface Listed extends NftRule {
	raw: Buffer;
	key(): string;
}

/** What a decision is made on: the ruleset's generation, its chains, and the rules read. */
export interface Current {
	generation: number;
	chains: Set<string>;
	rules: Map<string, Listed[]>;
}

/** A rule we look for: its fingerprint, and bytes its dump must hold (needlesOf). */
interface Wanted {
	/** fingerprintOf its expressions: computed only for a rule that passes the needles. */
	key(): string;
	needles: Uint8Array[];
}

function wanted(exprs: Expr[]): Wanted {
	let key: string | undefined;
	return {
		key: () => {
			key ??= fingerprintOf(exprs);
			return key;
		},
		needles: needlesOf(exprs),
	};
}

const same = (r: Listed, w: Wanted) =>
	w.needles.every((n) => r.raw.indexOf(n) >= 0) && r.key() === w.key();

/** Two rules we are about to write are the same (a layout naming one rule twice). */
const sameWanted = (a: Wanted, b: Wanted) =>
	a.needles.length === b.needles.length &&
	a.needles.every((n, i) => Buffer.compare(n, b.needles[i] as Uint8Array) === 0) &&
	a.key() === b.key();

function listed(r: NftRule): Listed {
	let key: string | undefined;
	const e = r.expressions;
	return {
		...r,
		raw: Buffer.from(e.buffer, e.byteOffset, e.byteLength),
		key: () => {
			key ??= fingerprint(e);
			return key;
		},
	};
}

/**
 * The generation, every chain, and the rules of the chains in `scope` (every rule without it):
 * only what a decision reads, since each rule listed is decoded here, and a host's DNAT chains
 * grow with its containers.
 */
function look(nl: NetlinkSocket, family: Family, scope?: readonly LayoutChain[]): Current {
	const nf = family === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	const generation = ruleGeneration(nl);
	const chains = dumpChains(nl, nf);
	const found = scope
		? [...new Set(scope.map((c) => `${c.table} ${c.name}`))]
				.filter((k) => chains.has(k))
				.flatMap((k) => {
					const [table = "", chain = ""] = k.split(" ");
					return dumpRules(nl, nf, { table, chain });
				})
		: dumpRules(nl, nf);
	return currentOf(generation, chains, found);
}

/** A Current from listed chains ("table chain") and rules (in chain order). */
export function currentOf(generation: number, chains: Set<string>, found: NftRule[]): Current {
	const rules = new Map<string, Listed[]>();
	for (const r of found) {
		const k = `${r.table} ${r.chain}`;
		const list = rules.get(k) ?? [];
		list.push(listed(r));
		rules.set(k, list);
	}
	return { generation, chains, rules };
}

/** netavark's create_network_chains: every missing chain, then every missing rule in order. */
export function setupChanges(chains: readonly LayoutChain[], now: Current): NftChange[] {
	const changes: NftChange[] = [];
	const tables = new Set([...now.chains].map((c) => c.split(" ")[0]));
	const made = new Set(now.chains);
	const ensure = (table: string, name: string, base?: BaseChainSpec) => {
		if (made.has(`${table} ${name}`)) return;
		if (!tables.has(table)) {
			changes.push({ kind: "table", table });
			tables.add(table);
		}
		changes.push({ kind: "chain", table, chain: name, ...(base ? { base } : {}) });
		made.add(`${table} ${name}`);
	};
	for (const c of chains) {
		const base = BASE_CHAINS[`${c.table} ${c.name}`];
		if (c.create || base) ensure(c.table, c.name, base);
	}
	// Each chain's rules as they will be, existing (with a handle) and added (without one), so a
	// positioned insert finds its neighbour even when that is a rule added in this transaction.
	type Slot = { rule?: Listed; added?: Wanted; handle?: bigint };
	const model = new Map<string, Slot[]>();
	for (const c of chains) {
		const k = `${c.table} ${c.name}`;
		const list: Slot[] =
			model.get(k) ?? (now.rules.get(k) ?? []).map((r) => ({ rule: r, handle: r.handle }));
		model.set(k, list);
		for (const r of c.rules) {
			const w = wanted(r.exprs);
			if (list.some((x) => (x.rule ? same(x.rule, w) : x.added && sameWanted(x.added, w)))) {
				continue;
			}
			const at = Math.min((r.position ?? list.length + 1) - 1, list.length);
			const change: NftChange = {
				kind: "rule",
				table: c.table,
				chain: c.name,
				expressions: r.exprs,
			};
			if (r.position !== undefined && at < list.length) {
				const prev = list[at - 1];
				const next = list[at];
				if (at === 0) change.at = "first";
				else if (prev?.handle !== undefined) change.at = { after: prev.handle };
				else if (next?.handle !== undefined) change.at = { before: next.handle };
				// else both neighbours are new in this transaction: append. (Right for netavark's
				// positions, 1 and 2; a later position between two new rules would need more.)
			}
			changes.push(change);
			list.splice(at, 0, { added: w });
		}
	}
	return changes;
}

/**
 * netavark's teardown: each rule whose policy says so goes (its first match); with `complete`,
 * the chains marked for it go too when nothing is left in them and nothing jumps to them.
 */
export function teardownChanges(
	chains: readonly LayoutChain[],
	now: Current,
	complete: boolean,
): NftChange[] {
	const changes: NftChange[] = [];
	// Handles are numbered per table: a rule is "table handle".
	const gone = new Set<string>();
	const id = (r: Listed) => `${r.table} ${r.handle}`;
	const judgedLast: { c: LayoutChain; r: LayoutRule; hit: Listed }[] = [];
	for (const c of chains) {
		const current = now.rules.get(`${c.table} ${c.name}`) ?? [];
		const found = new Map<LayoutRule, Listed>();
		for (const r of c.rules) {
			if (r.teardown === "never" || (r.teardown === "complete" && !complete)) continue;
			const w = wanted(r.exprs);
			const hit = current.find((x) => !gone.has(id(x)) && same(x, w));
			if (!hit) continue;
			gone.add(id(hit));
			found.set(r, hit);
		}
		// A shared rule stays while a rule it serves stays (judged after this container's went).
		for (const [r, hit] of found) {
			if (!r.keptWhile) continue;
			const prefix = `${fingerprintOf(r.keptWhile)} target(`;
			const probe = needlesOf(r.keptWhile);
			const serves = current.some(
				(x) =>
					!gone.has(id(x)) &&
					probe.every((n) => x.raw.indexOf(n) >= 0) &&
					x.key().startsWith(prefix),
			);
			if (serves) {
				found.delete(r);
				gone.delete(id(hit));
			}
		}
		for (const [r, hit] of found) {
			if (r.keptWhileRulesIn) judgedLast.push({ c, r, hit });
			else changes.push({ kind: "delrule", table: c.table, chain: c.name, handle: hit.handle });
		}
	}
	// A jump into a shared chain stays while the chain still holds rules (another network's).
	for (const { c, r, hit } of judgedLast) {
		const target = now.rules.get(`${c.table} ${r.keptWhileRulesIn}`) ?? [];
		if (target.some((x) => !gone.has(id(x)))) gone.delete(id(hit));
		else changes.push({ kind: "delrule", table: c.table, chain: c.name, handle: hit.handle });
	}
	if (!complete) return changes;
	const left = [...now.rules.values()].flat().filter((r) => !gone.has(id(r)));
	const deleted = new Set<string>(); // a chain listed once per subnet goes once
	for (const c of chains) {
		const k = `${c.table} ${c.name}`;
		if (!c.removeOnComplete || !now.chains.has(k) || deleted.has(k)) continue;
		deleted.add(k);
		const inIt = left.some((r) => r.table === c.table && r.chain === c.name);
		// A jump names its chain (a comment that does too keeps the chain: the safe side).
		const name = Buffer.from(`${c.name}\0`);
		const referenced = left.some((r) => r.table === c.table && r.raw.indexOf(name) >= 0);
		if (!inIt && !referenced) changes.push({ kind: "delchain", table: c.table, chain: c.name });
	}
	return changes;
}

/** Dump, decide, commit; again while another writer got in between (ERESTART). */
function apply(
	nl: NetlinkSocket,
	family: Family,
	decide: (now: Current) => NftChange[],
	lockPath: string | undefined,
	scope?: readonly LayoutChain[],
): void {
	if (lockPath) mkdirSync(dirname(lockPath), { recursive: true, mode: 0o700 });
	using _lock = lockPath ? lockFileSync(lockPath, "exclusive") : undefined;
	for (let attempt = 1; ; attempt++) {
		const now = look(nl, family, scope);
		let changes = decide(now);
		if (changes.length === 0) return;
		const commit = () =>
			nftTransaction(nl, family === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6, changes, now.generation);
		try {
			try {
				commit();
			} catch (e) {
				// A chain of ours that something outside our view still jumps to stays (netavark
				// leaves a chain with rules in it too): the rest goes ahead, then each chain on its own.
				const chainsToGo = changes.filter((c) => c.kind === "delchain");
				if (!(e instanceof NetlinkError && e.errno === ERRNO.EBUSY) || !chainsToGo.length) throw e;
				changes = changes.filter((c) => c.kind !== "delchain");
				if (changes.length > 0) commit();
				for (const c of chainsToGo) {
					try {
						nftTransaction(nl, family === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6, [c]);
					} catch (err) {
						if (!(err instanceof NetlinkError && err.errno === ERRNO.EBUSY)) throw err;
					}
				}
			}
			return;
		} catch (e) {
			if (!(e instanceof NetlinkError && e.errno === ERRNO.ERESTART) || attempt >= ATTEMPTS) {
				throw e;
			}
			Bun.sleepSync(Math.random() * 2); // a writer outside our lock: let it finish
		}
	}
}

/**
 * What one network and one container's ports make, per family the network has: the network's
 * rules for each of its subnets (as netavark loops over them), the ports' through the subnet of
 * the container's address.
 */
function layout(net: FwNetwork, ports: readonly FwPort[], containerId: string) {
	return ([4, 6] as const).flatMap((family) => {
		const subnets = subnetsOf(net, family);
		if (subnets.length === 0) return [];
		const mine = ports.filter((p) => p.containerIP.includes(":") === (family === 6));
		const first = mine[0]?.containerIP;
		const own = subnets.find((s) => first && contains(parseSubnet(s), first)) ?? subnets[0];
		const chains = [
			...subnets.flatMap((s) => networkChains(family, s, net)),
			...portChains(family, { containerId, network: net, subnet: own as string, ports: mine }),
		];
		return [{ family, chains }];
	});
}

/**
 * netavark's chains (and none of our own table) in the namespace at `netnsPath`, or ours.
 * `lockPath`: the lock file every ctrnet writing to that namespace's ruleset shares.
 */
export function openIptablesFirewall(
	opts: { netnsPath?: string; lockPath?: string } = {},
): Firewall {
	const nl = openNetfilter(opts.netnsPath);
	const lockPath = opts.lockPath;
	return {
		applyTransaction() {
			throw new Error("the iptables firewall driver takes no nft commands");
		},
		setup(net, ports, opts = {}) {
			if (net.internal) return; // netavark 1.4 writes no rule for an internal network
			for (const { family, chains } of layout(net, ports, opts.containerId ?? "")) {
				apply(nl, family, (now) => setupChanges(chains, now), lockPath, chains);
			}
		},
		teardown(net, ports, opts) {
			if (net.internal) return { baseRemoved: false };
			// Both families, whatever the first does: then the first error. A port this driver
			// never writes (sctp: refused at setup) has nothing here to remove.
			const errors: unknown[] = [];
			const mine = ports.filter((p) => forwards(p.protocol));
			for (const { family, chains } of layout(net, mine, opts.containerId ?? "")) {
				try {
					apply(
						nl,
						family,
						(now) => teardownChanges(chains, now, opts.lastOnNetwork),
						lockPath,
						chains,
					);
				} catch (e) {
					errors.push(e);
				}
			}
			if (errors.length > 0) throw errors[0];
			return { baseRemoved: false };
		},
		wipe() {
			for (const family of [4, 6] as const) {
				apply(nl, family, (now) => wipeChanges(now), lockPath);
			}
		},
		close() {
			nl.close();
		},
	};
}

/** Every NETAVARK chain, and every rule that jumps to one (tests; gc). */
function wipeChanges(now: Current): NftChange[] {
	const ours = (name: string) => name.startsWith("NETAVARK");
	const changes: NftChange[] = [];
	for (const rules of now.rules.values()) {
		for (const r of rules) {
			if (!ours(r.chain) && /2=NETAVARK[^}]*\}/.test(r.key())) {
				changes.push({ kind: "delrule", table: r.table, chain: r.chain, handle: r.handle });
			}
		}
	}
	for (const c of now.chains) {
		const [table = "", chain = ""] = c.split(" ");
		if (!ours(chain)) continue;
		for (const r of now.rules.get(c) ?? []) {
			changes.push({ kind: "delrule", table, chain, handle: r.handle });
		}
	}
	for (const c of now.chains) {
		const [table = "", chain = ""] = c.split(" ");
		if (ours(chain)) changes.push({ kind: "delchain", table, chain });
	}
	return changes;
}

let host: Firewall | undefined;

/** The process's iptables-layout firewall in the namespace it is first called from. */
export function hostIptablesFirewall(lockPath?: string): Firewall {
	host ??= openIptablesFirewall(lockPath ? { lockPath } : {});
	return host;
}
