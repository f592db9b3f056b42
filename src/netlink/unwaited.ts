// Deleting a link without waiting for the kernel to free it.
//
// RTM_DELLINK takes effect at once: the device leaves its namespace's list (name, addresses,
// routes, bridge port and, for a veth, the peer in the other namespace all go) and the kernel
// announces it with an RTM_DELLINK notification. Then, still inside the sender's system call, it
// waits in rcu_barrier() before freeing the device — 15–30 ms here, which no caller needs (the
// same freeing runs on a kernel worker when a namespace is removed). So the request is sent by a
// detached child (ffi/detached.c) that does that waiting, and we return on the notification.
import { sendDetached } from "../../ffi/detached";
import { attachSocketFilter, type BpfInsn } from "../../ffi/libc";
import { decodeIfinfomsg, encodeIfinfomsg, IFINFOMSG_LEN } from "./codec";
import { AF_UNSPEC, NLMSG_ERROR, RTM_DELLINK } from "./constants";
import { NetlinkError } from "./error";
import { deleteLink } from "./link";
import { openNetlink } from "./socket";

/** <linux/rtnetlink.h>: the group whose members hear of every link change. */
const RTNLGRP_LINK = 1;
/** The notification comes within a millisecond; past this, something is wrong: do it here. */
const NOTIFY_TIMEOUT_MS = 5_000;

/**
 * The device's own RTM_DELLINK (ifi_family AF_UNSPEC), sent once it is unlisted and its
 * addresses and routes are gone — not the bridge's earlier one (AF_BRIDGE) for its port.
 */
function announcesDeletion(m: { type: number; payload: Uint8Array }, index: number): boolean {
	if (m.type !== RTM_DELLINK || m.payload.byteLength < IFINFOMSG_LEN) return false;
	const ifi = decodeIfinfomsg(m.payload);
	return ifi.family === AF_UNSPEC && ifi.index === index;
}

// Classic BPF (<linux/filter.h>): a load of a halfword/word at an absolute offset, a compare,
// a return. Loads read big-endian; netlink is in host order (little-endian here).
const BPF_LD_H_ABS = 0x28;
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const hostToBe = (bytes: number, v: number) => {
	const d = new DataView(new ArrayBuffer(4));
	if (bytes === 2) {
		d.setUint16(0, v, true);
		return d.getUint16(0, false);
	}
	d.setUint32(0, v >>> 0, true);
	return d.getUint32(0, false);
};

/**
 * Passes an NLMSG_ERROR (our ack or error) or an RTM_DELLINK of `index`; drops the rest.
 * Offsets: nlmsg_type at 4, ifi_index at 16 + 4.
 */
function onlyDeletionOf(index: number): BpfInsn[] {
	return [
		{ code: BPF_LD_H_ABS, jt: 0, jf: 0, k: 4 },
		{ code: BPF_JEQ_K, jt: 4, jf: 0, k: hostToBe(2, NLMSG_ERROR) },
		{ code: BPF_JEQ_K, jt: 0, jf: 2, k: hostToBe(2, RTM_DELLINK) },
		{ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 20 },
		{ code: BPF_JEQ_K, jt: 1, jf: 0, k: hostToBe(4, index) },
		{ code: BPF_RET_K, jt: 0, jf: 0, k: 0 },
		{ code: BPF_RET_K, jt: 0, jf: 0, k: 0xffffffff },
	];
}

/**
 * Deletes link `index` of the namespace at `netnsPath` (the current one when undefined) and
 * returns once it is unlisted. Errors as deleteLink's (ENODEV when there is no such link).
 * Without the native helper this is deleteLink, waiting included.
 */
export function deleteLinkUnwaited(netnsPath: string | undefined, index: number): void {
	using nl = openNetlink(netnsPath);
	// Both only save time; without them the ack still ends the wait. The filter lets only this
	// link's deletions and our request's answer through: with many links changing at once (100
	// teardowns), every other notification would wake us for nothing.
	try {
		attachSocketFilter(nl.fd, onlyDeletionOf(index));
	} catch {}
	try {
		// Joined before the request goes out, so its notification cannot be missed.
		nl.joinGroup(RTNLGRP_LINK);
	} catch {}
	const op = `delete link ${index}`;
	const { seq, bytes } = nl.encodeRequest(RTM_DELLINK, 0, encodeIfinfomsg({ index }));
	if (!sendDetached(nl.fd, bytes)) {
		deleteLink(nl, index);
		return;
	}
	try {
		nl.waitFor(op, seq, (m) => announcesDeletion(m, index), NOTIFY_TIMEOUT_MS);
	} catch (e) {
		if (!(e instanceof NetlinkError && e.code === "ETIMEDOUT")) throw e;
		// No word from the kernel: the child's request never went out, or it is stuck behind the
		// rtnl lock. Ours, waited for; ENODEV then means the child's got there first.
		try {
			deleteLink(nl, index);
		} catch (e2) {
			if (!(e2 instanceof NetlinkError && e2.code === "ENODEV")) throw e2;
		}
	}
}
