// A NETLINK_ROUTE socket. It belongs to the network namespace it was opened in and stays there
// after the thread leaves (bun-platform §1), so opening one inside a netns is the only time we
// enter it. Requests are synchronous: send, then read replies with our sequence number until
// the ack (NLMSG_ERROR 0), the error, or the end of a dump (NLMSG_DONE).
import { ERRNO, SysError } from "../../ffi/errno";
import {
	AF_NETLINK,
	close,
	MSG_TRUNC,
	POLLIN,
	pollOne,
	recvfrom,
	SOCK_RAW,
	sendto,
	setsockopt,
	socket,
	strerror,
	bind as sysBind,
} from "../../ffi/libc";
import { inNetns } from "../../ffi/netns";
import {
	type Attr,
	concat,
	decodeError,
	decodeMessages,
	encodeMessage,
	type Message,
	u32,
} from "./codec";
import {
	NETLINK_ADD_MEMBERSHIP,
	NETLINK_EXT_ACK,
	NETLINK_ROUTE,
	NLM_F_ACK,
	NLM_F_DUMP,
	NLM_F_DUMP_INTR,
	NLM_F_REQUEST,
	NLMSG_DONE,
	NLMSG_ERROR,
	NLMSG_NOOP,
	SOL_NETLINK,
} from "./constants";
import { NetlinkError } from "./error";

/** The kernel answers at once; a reply this late means something is badly wrong. */
const REPLY_TIMEOUT_MS = 30_000;
const DUMP_RETRIES = 5;

/** A reply: type, flags and a private copy of the payload (the receive buffer is reused). */
export type Reply = Pick<Message, "type" | "flags" | "payload">;

/** One change request of a batch (see NetlinkSocket.batch). */
export interface BatchItem {
	/** What it does, for the error message: "add address 10.0.0.1/24 dev eth0". */
	op: string;
	type: number;
	flags: number;
	body: Uint8Array;
	attrs?: Attr[];
	/** errnos that count as success here, e.g. EEXIST for "already there is fine". */
	tolerate?: readonly number[];
}

export class NetlinkSocket {
	readonly fd: number;
	/** The netns this socket was opened in (undefined: the namespace ctrnet ran in). */
	readonly netnsPath: string | undefined;
	private seq = Math.floor(Math.random() * 0x7fffffff);
	// One 64 KiB receive buffer per socket, reused: the kernel caps a dump datagram at 32 KiB.
	private readonly buf = new Uint8Array(65536);
	private closed = false;

	/**
	 * Opens a socket in the calling thread's current netns. Prefer openNetlink(). `protocol`:
	 * NETLINK_ROUTE, or NETLINK_NETFILTER for nf_tables (nftables.ts).
	 */
	constructor(netnsPath?: string, protocol = NETLINK_ROUTE) {
		this.netnsPath = netnsPath;
		this.fd = socket(AF_NETLINK, SOCK_RAW, protocol);
		try {
			const sa = new Uint8Array(12); // sockaddr_nl: family, pad, pid 0 (kernel assigns), groups 0
			new DataView(sa.buffer).setUint16(0, AF_NETLINK, true);
			sysBind(this.fd, sa);
			// Extended ack: the kernel explains its errors in words (best effort: old kernels lack it).
			try {
				setsockopt(this.fd, SOL_NETLINK, NETLINK_EXT_ACK, u32(1));
			} catch {}
		} catch (e) {
			close(this.fd);
			throw e;
		}
	}

	/** A request that changes something: waits for the kernel's ack and returns any replies. */
	request(op: string, type: number, flags: number, body: Uint8Array, attrs: Attr[] = []): Reply[] {
		const seq = this.nextSeq();
		this.send(encodeMessage({ type, flags: flags | NLM_F_REQUEST | NLM_F_ACK, seq }, body, attrs));
		const replies: Reply[] = [];
		for (;;) {
			for (const m of this.receive(op)) {
				if (m.seq !== seq) continue; // a late reply to an earlier, abandoned request
				if (m.type === NLMSG_ERROR) {
					const { errno, message } = decodeError(m.payload, m.flags);
					if (errno === 0) return replies;
					throw new NetlinkError(op, errno, message ?? strerror(errno));
				}
				if (m.type !== NLMSG_NOOP) replies.push(copy(m));
			}
		}
	}

	/**
	 * Several change requests in one datagram, so one system call instead of one per request:
	 * the kernel runs them in order and acks each, going on past a failed one. Waits for every
	 * ack, then throws the first failure (in request order) that is not tolerated.
	 * `frame`: messages sent before and after the requests, unacked (nf_tables' batch begin and
	 * end, which make the requests one transaction: all applied or none). Then only the last
	 * request asks for an ack: the kernel reports every failing one anyway, and queueing an ack
	 * per request would overflow the receive buffer of a large transaction (ENOBUFS). The first
	 * error ends the wait: the kernel has aborted the transaction, and some of its answers (a
	 * refused generation, ENOMEM) come alone, on the begin message or the first request.
	 * `tolerate` does not apply to a framed batch: nothing of an aborted transaction stands.
	 */
	batch(
		items: readonly BatchItem[],
		frame?: { begin: Omit<BatchItem, "op">; end: Omit<BatchItem, "op"> },
	): void {
		if (items.length === 0) return;
		const index = new Map<number, number>(); // seq -> index into items
		const pending = new Set<number>(); // the seqs whose ack (or error) is still to come
		const unacked = (it: Omit<BatchItem, "op">) =>
			encodeMessage(
				{ type: it.type, flags: it.flags | NLM_F_REQUEST, seq: this.nextSeq() },
				it.body,
				it.attrs ?? [],
			);
		const msgs = frame ? [unacked(frame.begin)] : [];
		// An answer about the whole transaction (a stale generation: ERESTART) comes on this seq.
		const beginSeq = frame ? this.seq : undefined;
		items.forEach((it, i) => {
			const seq = this.nextSeq();
			index.set(seq, i);
			const ack = !frame || i === items.length - 1;
			if (ack) pending.add(seq);
			const flags = it.flags | NLM_F_REQUEST | (ack ? NLM_F_ACK : 0);
			msgs.push(encodeMessage({ type: it.type, flags, seq }, it.body, it.attrs ?? []));
		});
		if (frame) msgs.push(unacked(frame.end));
		this.send(concat(msgs));
		const failures: (NetlinkError | undefined)[] = [];
		while (pending.size > 0) {
			for (const m of this.receive(items[0]?.op ?? "batch")) {
				if (m.type !== NLMSG_ERROR) continue;
				const i = index.get(m.seq);
				if (frame && (i !== undefined || m.seq === beginSeq)) {
					const { errno, message } = decodeError(m.payload, m.flags);
					const op = i === undefined ? "transaction" : (items[i] as BatchItem).op;
					if (errno !== 0) throw new NetlinkError(op, errno, message ?? strerror(errno));
				}
				if (i === undefined) continue;
				pending.delete(m.seq);
				const { errno, message } = decodeError(m.payload, m.flags);
				const it = items[i] as BatchItem;
				if (errno !== 0 && !it.tolerate?.includes(errno)) {
					failures[i] = new NetlinkError(it.op, errno, message ?? strerror(errno));
				}
			}
		}
		const first = failures.find((f) => f !== undefined);
		if (first) throw first;
	}

	/** Joins a multicast group (RTNLGRP_*): its notifications then arrive between the replies. */
	joinGroup(group: number): void {
		setsockopt(this.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, u32(group));
	}

	/**
	 * A change request with an ack asked for, encoded with this socket's next sequence number,
	 * for a caller that sends it some other way (see unwaited.ts) and then calls waitFor.
	 */
	encodeRequest(type: number, flags: number, body: Uint8Array, attrs: Attr[] = []) {
		const seq = this.nextSeq();
		const bytes = encodeMessage(
			{ type, flags: flags | NLM_F_REQUEST | NLM_F_ACK, seq },
			body,
			attrs,
		);
		return { seq, bytes };
	}

	/**
	 * Reads until `done` accepts a message (a notification, say) or the request `seq` is
	 * answered: its ack returns, its error throws. A receive queue that overflowed (ENOBUFS:
	 * the kernel dropped notifications) is read on: the ack still comes. NetlinkError ETIMEDOUT
	 * when neither came within `timeoutMs`.
	 */
	waitFor(
		op: string,
		seq: number,
		done: (m: Message) => boolean,
		timeoutMs = REPLY_TIMEOUT_MS,
	): void {
		const deadline = performance.now() + timeoutMs;
		for (;;) {
			let msgs: Message[];
			try {
				msgs = this.receive(op, Math.max(0, deadline - performance.now()));
			} catch (e) {
				if (e instanceof SysError && e.errno === ERRNO.ENOBUFS) continue;
				throw e;
			}
			for (const m of msgs) {
				if (done(m)) return;
				if (m.seq !== seq || m.type !== NLMSG_ERROR) continue;
				const { errno, message } = decodeError(m.payload, m.flags);
				if (errno === 0) return;
				throw new NetlinkError(op, errno, message ?? strerror(errno));
			}
		}
	}

	/** A dump (NLM_F_DUMP): every reply of every part until NLMSG_DONE; redone if interrupted. */
	dump(op: string, type: number, body: Uint8Array, attrs: Attr[] = []): Reply[] {
		return this.dumpWith(op, type, body, attrs, copy);
	}

	/**
	 * A dump whose replies `read` turns into values while they are still in the receive buffer
	 * (dump() copies each one first): for long dumps of which little is kept.
	 */
	dumpWith<T>(
		op: string,
		type: number,
		body: Uint8Array,
		attrs: Attr[],
		read: (m: Message) => T,
	): T[] {
		for (let attempt = 0; attempt < DUMP_RETRIES; attempt++) {
			const seq = this.nextSeq();
			this.send(encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq }, body, attrs));
			const replies: T[] = [];
			let interrupted = false;
			let done = false;
			while (!done) {
				for (const m of this.receive(op)) {
					if (m.seq !== seq) continue;
					if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
					if (m.type === NLMSG_DONE) {
						// NLMSG_DONE carries an int: a negative errno when the dump failed part-way.
						const err = m.payload.byteLength >= 4 ? decodeError(m.payload, m.flags) : { errno: 0 };
						if (err.errno > 0) {
							throw new NetlinkError(op, err.errno, err.message ?? strerror(err.errno));
						}
						done = true;
						break;
					}
					if (m.type === NLMSG_ERROR) {
						const { errno, message } = decodeError(m.payload, m.flags);
						if (errno === 0) continue;
						throw new NetlinkError(op, errno, message ?? strerror(errno));
					}
					if (m.type !== NLMSG_NOOP) replies.push(read(m));
				}
			}
			if (!interrupted) return replies;
		}
		throw new NetlinkError(op, ERRNO.EINTR, "dump kept being interrupted by concurrent changes");
	}

	close(): void {
		if (this.closed) return;
		this.closed = true;
		close(this.fd);
	}

	[Symbol.dispose](): void {
		this.close();
	}

	private nextSeq(): number {
		this.seq = (this.seq + 1) >>> 0 || 1;
		return this.seq;
	}

	private send(msg: Uint8Array): void {
		if (this.closed) throw new Error("netlink: socket is closed");
		sendto(this.fd, msg);
	}

	private receive(op: string, timeoutMs = REPLY_TIMEOUT_MS): Message[] {
		if (!pollOne(this.fd, POLLIN, Math.ceil(timeoutMs))) {
			throw new NetlinkError(op, ERRNO.ETIMEDOUT, "no reply from the kernel");
		}
		// MSG_TRUNC: the real datagram length comes back, so a reply that did not fit is an
		// error instead of a silently cut message.
		const n = recvfrom(this.fd, this.buf, MSG_TRUNC);
		if (n > this.buf.byteLength) {
			throw new NetlinkError(op, ERRNO.EMSGSIZE, `reply of ${n} bytes exceeds the receive buffer`);
		}
		return decodeMessages(this.buf.subarray(0, n));
	}
}

function copy(m: Message): Reply {
	return { type: m.type, flags: m.flags, payload: m.payload.slice() };
}

/**
 * A rtnetlink socket in the netns at `netnsPath` (opened inside it, so it keeps talking to that
 * namespace), or in the current one. Close it, or hold it with `using`.
 */
export function openNetlink(netnsPath?: string): NetlinkSocket {
	if (netnsPath === undefined) return new NetlinkSocket();
	return inNetns(netnsPath, () => new NetlinkSocket(netnsPath));
}

/** Opens a socket, runs `fn` with it, closes it. `fn` must be synchronous (it usually is). */
export function withNetlink<T>(netnsPath: string | undefined, fn: (nl: NetlinkSocket) => T): T {
	const nl = openNetlink(netnsPath);
	try {
		return fn(nl);
	} finally {
		nl.close();
	}
}
