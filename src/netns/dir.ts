// The netns directory, made a shared mount point the way iproute2 does (ip/ipnetns.c): so that
// a namespace mounted here later also appears in mount namespaces that were copied before (a
// container that bind-mounted the dir, a daemon started earlier), and `ip netns` sees ours.
import { mkdirSync } from "node:fs";
import { SysError } from "../../ffi/errno";
import { MS_BIND, MS_REC, MS_SHARED, mount } from "../../ffi/libc";

const EINVAL = 22;

export function ensureNetnsDir(dir: string): void {
	mkdirSync(dir, { recursive: true, mode: 0o711 });
	// Making it shared fails with EINVAL while the dir is not a mount point: then bind-mount it
	// onto itself (once) and try again. Both steps are no-ops the second time round.
	try {
		mount("", dir, "none", MS_SHARED | MS_REC);
	} catch (e) {
		if (!(e instanceof SysError && e.errno === EINVAL)) throw e;
		mount(dir, dir, "none", MS_BIND | MS_REC);
		mount("", dir, "none", MS_SHARED | MS_REC);
	}
}
