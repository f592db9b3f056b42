// Runs startSlirp4netns for the PID form as whoever runs this script (the rootless test runs it
// as the unprivileged user). Prints {"pid": N} or {"error": "..."} and exits; slirp4netns stays.

import { startSlirp4netns } from "../../src/helpers/slirp4netns";
import { detectSlirp } from "../../src/slirp/features";
import { parseSlirpOptions } from "../../src/slirp/options";

const [pid, tmpDir, ...options] = process.argv.slice(2);
try {
	const info = await detectSlirp();
	if (!info) throw new Error("slirp4netns not installed");
	const started = await startSlirp4netns({
		binary: info.path,
		features: info.features,
		options: parseSlirpOptions(options, info.features),
		target: { pid: Number(pid) },
		containerId: "t7-rootless",
		tmpDir: tmpDir as string,
		hasPorts: false,
	});
	console.log(JSON.stringify({ pid: started.pid }));
} catch (err) {
	console.log(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
}
