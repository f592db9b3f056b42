// Run as the unprivileged test user: slirp4netns (PID form) for the process PID, then the
// rootlessport forwarder inside that process's user namespace, 127.0.0.1:HOSTPORT -> 8000.
// Prints {"slirp": pid, "rootlessport": pid} or {"error": "..."}; the helpers stay running.
import { startRootlessport } from "../../src/helpers/rootlessport";
import { startSlirp4netns } from "../../src/helpers/slirp4netns";
import { stopHelper } from "../../src/helpers/stop";
import type { ProcessIdentity } from "../../src/process/identity";
import { detectSlirp } from "../../src/slirp/features";
import { parseSlirpOptions, slirpGuestIP } from "../../src/slirp/options";

const [pid, tmpDir, hostPort] = process.argv.slice(2);
let slirp: ProcessIdentity | undefined;
try {
	const info = await detectSlirp();
	if (!info) throw new Error("slirp4netns not installed");
	const options = parseSlirpOptions([], info.features);
	slirp = await startSlirp4netns({
		binary: info.path,
		features: info.features,
		options,
		target: { pid: Number(pid) },
		containerId: "t7-rootless",
		tmpDir: tmpDir as string,
		hasPorts: true,
	});
	const rp = await startRootlessport({
		mappings: [
			{ hostIP: "127.0.0.1", hostPort: Number(hostPort), containerPort: 8000, protocol: "tcp" },
		],
		netnsPath: `/proc/${pid}/ns/net`,
		userns: `/proc/${pid}/ns/user`,
		childIP: slirpGuestIP(options.cidr),
		containerId: "t7-rootless",
		tmpDir: tmpDir as string,
	});
	console.log(JSON.stringify({ slirp: slirp.pid, rootlessport: rp.pid }));
} catch (err) {
	if (slirp) await stopHelper(slirp);
	console.log(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
}
