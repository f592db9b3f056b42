// What is inside a namespace: links with state, MTU, MAC, addresses and 64-bit counters,
// read over one netlink socket opened inside it (`ip -s -n NAME addr`).
import { ERRNO, SysError } from "../../ffi/errno";
import { NotFoundError, UsageError } from "../errors";
import { type Address, listAddresses } from "../netlink/address";
import { type Link, listLinks } from "../netlink/link";
import { openNetlink } from "../netlink/socket";

export interface NetnsLink extends Link {
	addresses: Omit<Address, "index">[];
}

export interface NetnsInspect {
	path: string;
	links: NetnsLink[];
}

export function inspectNetns(path: string): NetnsInspect {
	let nl: ReturnType<typeof openNetlink>;
	try {
		nl = openNetlink(path);
	} catch (e) {
		// setns refuses a file that is not a netns with EINVAL.
		if (e instanceof SysError && e.errno === ERRNO.EINVAL) {
			throw new UsageError(`${path} is not a network namespace`);
		}
		if (e instanceof SysError && e.errno === ERRNO.ENOENT) {
			throw new NotFoundError(`netns ${path} does not exist`);
		}
		throw e;
	}
	try {
		const addrs = listAddresses(nl);
		const links = listLinks(nl).map((l) => ({
			...l,
			addresses: addrs.filter((a) => a.index === l.index).map(({ index: _, ...a }) => a),
		}));
		return { path, links };
	} finally {
		nl.close();
	}
}
