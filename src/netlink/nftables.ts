// nf_tables over netlink (NETLINK_NETFILTER), for the few objects the iptables-layout firewall
// writes: tables, chains and rules of one family, changed in ONE transaction (a batch framed by
// NFNL_MSG_BATCH_BEGIN/END: all applied or none), and listed by dumps. The rules' expressions
// are opaque here (src/firewall/iptables builds them). Numbers: <linux/netfilter/nf_tables.h>.
import {
	SO_RCVBUF,
	SO_RCVBUFFORCE,
	SO_SNDBUF,
	SO_SNDBUFFORCE,
	SOL_SOCKET,
} from "../../ffi/constants";
import { ERRNO } from "../../ffi/errno";
import { setsockopt } from "../../ffi/libc";
import { inNetns } from "../../ffi/netns";
import { type Attr, be32, be64, decodeAttrs, getStr, str } from "./codec";
import { NLA_TYPE_MASK } from "./constants";
import { NetlinkError } from "./error";
import { type BatchItem, NetlinkSocket } from "./socket";

const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 16;
const NFNL_MSG_BATCH_END = 17;
const msg = (m: number) => (NFNL_SUBSYS_NFTABLES << 8) | m;
const NFT_MSG_NEWTABLE = msg(0);
const NFT_MSG_NEWCHAIN = msg(3);
const NFT_MSG_GETCHAIN = msg(4);
const NFT_MSG_DELCHAIN = msg(5);
const NFT_MSG_NEWRULE = msg(6);
const NFT_MSG_GETRULE = msg(7);
const NFT_MSG_DELRULE = msg(8);
const NFT_MSG_GETSETELEM = msg(13);
const NFT_MSG_GETGEN = msg(16);
const NFTA_GEN_ID = 1;
const NFNL_BATCH_GENID = 1;

const NLM_F_CREATE = 0x400;
const NLM_F_APPEND = 0x800;
/** On a chain deletion: refuse (EBUSY) when rules are left in it, instead of deleting them too. */
const NLM_F_NONREC = 0x100;

export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;
export type NfFamily = typeof NFPROTO_IPV4 | typeof NFPROTO_IPV6;

// Attribute numbers (NFTA_*).
const TABLE_NAME = 1;
const CHAIN_TABLE = 1;
const CHAIN_NAME = 3;
const CHAIN_HOOK = 4;
const CHAIN_POLICY = 5;
const CHAIN_TYPE = 7;
const HOOK_HOOKNUM = 1;
const HOOK_PRIORITY = 2;
const RULE_TABLE = 1;
const RULE_CHAIN = 2;
const RULE_HANDLE = 3;
const RULE_EXPRESSIONS = 4;
const RULE_POSITION = 6;

const NF_ACCEPT = 1;

/** struct nfgenmsg: family, version 0, res_id (big-endian; the subsystem on batch messages). */
function nfgenmsg(family: number, resId = 0): Uint8Array {
	const b = new Uint8Array(4);
	b[0] = family;
	new DataView(b.buffer).setUint16(2, resId);
	return b;
}

/** A base chain: the hook it sits on, as iptables-nft makes them (type, hook number, priority). */
export interface BaseChainSpec {
	type: "filter" | "nat";
	hook: number;
	priority: number;
}

/** One change of a transaction. */
export type NftChange =
	| { kind: "table"; table: string }
	/** Created when missing; a base chain gets policy accept (an existing one keeps its own). */
	| { kind: "chain"; table: string; chain: string; base?: BaseChainSpec }
	| { kind: "delchain"; table: string; chain: string }
	/**
	 * Appended, or inserted: `before` a rule handle, `after` one, or `first` in the chain.
	 * `expressions`: NFTA_RULE_EXPRESSIONS' list elements.
	 */
	| {
			kind: "rule";
			table: string;
			chain: string;
			expressions: Attr[];
			at?: { after: bigint } | { before: bigint } | "first";
	  }
	| { kind: "delrule"; table: string; chain: string; handle: bigint };

/** The chain a chain message is about. */
const chainIs = (table: string, chain: string): Attr[] => [
	{ type: CHAIN_TABLE, value: str(table) },
	{ type: CHAIN_NAME, value: str(chain) },
];

/** The chain a rule message is about. */
const ruleIn = (table: string, chain: string): Attr[] => [
	{ type: RULE_TABLE, value: str(table) },
	{ type: RULE_CHAIN, value: str(chain) },
];

function item(family: NfFamily, c: NftChange): BatchItem {
	const body = nfgenmsg(family);
	switch (c.kind) {
		case "table":
			return {
				op: `add table ${c.table}`,
				type: NFT_MSG_NEWTABLE,
				flags: NLM_F_CREATE,
				body,
				attrs: [{ type: TABLE_NAME, value: str(c.table) }],
			};
		case "chain": {
			const attrs = chainIs(c.table, c.chain);
			if (c.base) {
				attrs.push(
					{
						type: CHAIN_HOOK,
						nestedFlag: true,
						value: [
							{ type: HOOK_HOOKNUM, value: be32(c.base.hook) },
							{ type: HOOK_PRIORITY, value: be32(c.base.priority) },
						],
					},
					{ type: CHAIN_POLICY, value: be32(NF_ACCEPT) },
					{ type: CHAIN_TYPE, value: str(c.base.type) },
				);
			}
			return {
				op: `add chain ${c.table} ${c.chain}`,
				type: NFT_MSG_NEWCHAIN,
				flags: NLM_F_CREATE,
				body,
				attrs,
			};
		}
		case "delchain":
			return {
				op: `delete chain ${c.table} ${c.chain}`,
				type: NFT_MSG_DELCHAIN,
				flags: NLM_F_NONREC,
				body,
				attrs: chainIs(c.table, c.chain),
			};
		case "rule": {
			const attrs = [
				...ruleIn(c.table, c.chain),
				{ type: RULE_EXPRESSIONS, nestedFlag: true, value: c.expressions },
			];
			let flags = NLM_F_CREATE | NLM_F_APPEND;
			if (c.at === "first") flags = NLM_F_CREATE;
			else if (c.at && "before" in c.at) {
				flags = NLM_F_CREATE;
				attrs.push({ type: RULE_POSITION, value: be64(c.at.before) });
			} else if (c.at) attrs.push({ type: RULE_POSITION, value: be64(c.at.after) });
			return { op: `add rule ${c.table} ${c.chain}`, type: NFT_MSG_NEWRULE, flags, body, attrs };
		}
		case "delrule":
			return {
				op: `delete rule ${c.table} ${c.chain} handle ${c.handle}`,
				type: NFT_MSG_DELRULE,
				flags: 0,
				body,
				attrs: [...ruleIn(c.table, c.chain), { type: RULE_HANDLE, value: be64(c.handle) }],
			};
	}
}

/**
 * Applies `changes` of one family as one nf_tables transaction; throws the first error. With
 * `generation` (from ruleGeneration), the kernel refuses the whole transaction with ERESTART
 * when the ruleset changed since: the caller decided on a stale dump and must look again.
 */
export function nftTransaction(
	nl: NetlinkSocket,
	family: NfFamily,
	changes: readonly NftChange[],
	generation?: number,
): void {
	const frame = (type: number, attrs: Attr[] = []) => ({
		type,
		flags: 0,
		body: nfgenmsg(0, NFNL_SUBSYS_NFTABLES),
		attrs,
	});
	const genid: Attr[] =
		generation === undefined ? [] : [{ type: NFNL_BATCH_GENID, value: be32(generation) }];
	nl.batch(
		changes.map((c) => item(family, c)),
		{ begin: frame(NFNL_MSG_BATCH_BEGIN, genid), end: frame(NFNL_MSG_BATCH_END) },
	);
}

/** The ruleset's generation: every committed transaction moves it on. */
export function ruleGeneration(nl: NetlinkSocket): number {
	const [reply] = nl.request("ruleset generation", NFT_MSG_GETGEN, 0, nfgenmsg(0));
	const id = reply ? decodeAttrs(reply.payload.subarray(4)).get(NFTA_GEN_ID) : undefined;
	if (!id) throw new Error("nf_tables: no ruleset generation in the kernel's answer");
	return new DataView(id.buffer, id.byteOffset).getUint32(0);
}

export interface NftRule {
	table: string;
	chain: string;
	handle: bigint;
	/** NFTA_RULE_EXPRESSIONS' payload: the list elements, as the kernel dumped them. */
	expressions: Uint8Array;
}

/**
 * The rules of the family's tables (of one table's chain with `only`), in chain order. Read in
 * place, keeping only the handle and a copy of the expressions: a host's DNAT chains hold a few
 * rules per published port, and this runs in every setup and teardown.
 */
export function dumpRules(
	nl: NetlinkSocket,
	family: NfFamily,
	only?: { table: string; chain: string },
): NftRule[] {
	const filter = only ? ruleIn(only.table, only.chain) : [];
	return nl.dumpWith("list rules", NFT_MSG_GETRULE, nfgenmsg(family), filter, (m) => {
		const p = m.payload;
		const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
		const rule: NftRule = {
			table: only?.table ?? "",
			chain: only?.chain ?? "",
			handle: 0n,
			expressions: new Uint8Array(),
		};
		for (let off = 4; off + 4 <= p.byteLength; ) {
			const len = dv.getUint16(off, true);
			if (len < 4 || off + len > p.byteLength) break;
			const type = dv.getUint16(off + 2, true) & NLA_TYPE_MASK;
			const value = p.subarray(off + 4, off + len);
			if (type === RULE_HANDLE) rule.handle = dv.getBigUint64(off + 4);
			else if (type === RULE_EXPRESSIONS) rule.expressions = value.slice();
			else if (!only && type === RULE_TABLE) rule.table = getStr(value) ?? "";
			else if (!only && type === RULE_CHAIN) rule.chain = getStr(value) ?? "";
			off += (len + 3) & ~3;
		}
		return rule;
	});
}

/**
 * Whether a set's elements hold `bytes` (a key such as an ifname with its NUL). A byte search of
 * the dump: a comment that happens to hold them too reads as a yes, which callers must allow.
 */
export function setHolds(
	nl: NetlinkSocket,
	family: number,
	table: string,
	set: string,
	bytes: Uint8Array,
): boolean {
	const needle = Buffer.from(bytes);
	try {
		const hits = nl.dumpWith(
			`list set ${table} ${set}`,
			NFT_MSG_GETSETELEM,
			nfgenmsg(family),
			[
				{ type: 1, value: str(table) }, // NFTA_SET_ELEM_LIST_TABLE
				{ type: 2, value: str(set) }, // NFTA_SET_ELEM_LIST_SET
			],
			(m) =>
				Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength).indexOf(needle) >=
				0,
		);
		return hits.includes(true);
	} catch (e) {
		if (e instanceof NetlinkError && e.errno === ERRNO.ENOENT) return false;
		throw e;
	}
}

/** The family's chains, as "table chain". */
export function dumpChains(nl: NetlinkSocket, family: NfFamily): Set<string> {
	return new Set(
		nl.dump("list chains", NFT_MSG_GETCHAIN, nfgenmsg(family)).map((r) => {
			const a = decodeAttrs(r.payload.subarray(4));
			return `${getStr(a.get(CHAIN_TABLE))} ${getStr(a.get(CHAIN_NAME))}`;
		}),
	);
}

/** Room for one transaction of a few thousand rules, and for the kernel's answers to it. */
const BUFFER_BYTES = 4 << 20;

/**
 * A NETLINK_NETFILTER socket in `netnsPath`, or in the current netns. Its buffers are raised as
 * libnftables raises them: netlink refuses a datagram larger than the send buffer (EMSGSIZE).
 */
export function openNetfilter(netnsPath?: string): NetlinkSocket {
	const open = () => new NetlinkSocket(netnsPath, NETLINK_NETFILTER);
	const nl = netnsPath === undefined ? open() : inNetns(netnsPath, open);
	const size = new Uint8Array(4);
	new DataView(size.buffer).setUint32(0, BUFFER_BYTES, true);
	try {
		for (const [force, plain] of [
			[SO_SNDBUFFORCE, SO_SNDBUF],
			[SO_RCVBUFFORCE, SO_RCVBUF],
		] as const) {
			try {
				setsockopt(nl.fd, SOL_SOCKET, force, size);
			} catch {
				setsockopt(nl.fd, SOL_SOCKET, plain, size); // without CAP_NET_ADMIN: up to the sysctl cap
			}
		}
	} catch (e) {
		nl.close();
		throw e;
	}
	return nl;
}
