// A failed rtnetlink request, in one line the user can act on:
// `netlink: <op>: <ERRNO NAME>: <kernel message>` — the kernel's extended-ack text when it gave
// one (e.g. "ipv4: Address already assigned"), the C library's errno text otherwise.
import { errnoName } from "../../ffi/errno";

export class NetlinkError extends Error {
	override readonly name = "NetlinkError";
	readonly code: string;
	constructor(
		readonly op: string,
		readonly errno: number,
		readonly kernelMessage: string,
	) {
		const code = errnoName(errno);
		super(`netlink: ${op}: ${code}: ${kernelMessage}`);
		this.code = code;
	}
}
