// TCP forwarding with the data path in the kernel (ffi/pump.c): the listening socket is made
// here, on the JS thread in the host netns (so bind errors come back as errno codes for
// podman's messages); accepting, dialling inside the container's netns and splicing happen on
// pump threads, to the address pump holds (pumpSetChild; a reload switches it). Same contract as
// tcp.ts (half-close, a refused dial closes the client, a connection beyond the cap is reset).
import { pumpClose, pumpListen, pumpStart } from "../../ffi/pump";
import { sockaddr } from "../ip/address";
import type { Forward } from "./config";

export function listenTcpSplice(f: Forward, netnsPath: string): { close(): void } {
	const host = sockaddr(f.hostIP, f.hostPort);
	const fd = pumpListen(host.addr, host.family);
	try {
		pumpStart(fd, netnsPath, f.containerPort);
	} catch (err) {
		pumpClose(fd);
		throw err;
	}
	return { close: () => pumpClose(fd) };
}
