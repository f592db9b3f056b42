// Deleting a link without waiting for the kernel to free it.
//
// RTM_DELLINK takes effect at once: the device leaves its namespace's list (name, addresses,
// routes, bridge port and, for a veth, the peer in the other namespace all go) and the kernel
// announces it with an RTM_DELLINK notification. Then, still inside the sender's system call, it
// waits in rcu_barrier() before freeing the device — 15–30 ms here, which no caller needs (the
// same freeing runs on a kernel worker when a namespace is removed). So the request is sent by a
// detached child (ffi/detached.c) that does that waiting, and we return on the notification.
import { sendDetached } from "../../ffi/detached";
import { encodeIfinfomsg } from "./codec";
import { RTM_DELLINK } from "./constants";
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
const announcesDeletion = (m: { type: number; payload: Uint8Array }, index: number) =>
	m.type === RTM_DELLINK &&
	m.payload.byteLength >= 8 &&
	m.payload[0] === 0 &&
	new DataView(m.payload.buffer, m.payload.byteOffset, 8).getInt32(4, true) === index;

/**
 * Deletes link `index` of the namespace at `netnsPath` (the current one when undefined) and
 * returns once it is unlisted. Errors as deleteLink's (ENODEV when there is no such link).
 * Without the native helper this is deleteLink, waiting included.
 */
export function deleteLinkUnwaited(netnsPath: string | undefined, index: number): void {
	using nl = openNetlink(netnsPath);
	// Joined before the request goes out, so its notification cannot be missed.
	nl.joinGroup(RTNLGRP_LINK);
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
		deleteLink(nl, index); // the child's request never arrived: ours, waited for
	}
}
