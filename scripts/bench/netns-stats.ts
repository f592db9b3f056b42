// 1,000 link-stat queries in one process against a namespace with a veth in it, three ways:
// linkStats() (open a socket inside the netns per query: setns there and back + one request),
// getLink() over one socket kept open, and — the peer — spawning `ip -s -n NS link show` (100 runs).
// Prints the median per query and the ratios. Run as root with the repository's bun.
import { randomBytes } from "node:crypto";
import { createVeth, getLink, linkStats, openNetlink } from "../../src/netlink";
import { createNetns, removeNetns } from "../../src/netns";

const N = Number(process.env.QUERIES ?? 1000);
const tag = `t3b-${randomBytes(3).toString("hex")}`;
const name = `${tag}-stats`;
const path = createNetns("/run/netns", name); // /run/netns so that `ip -n` can find it too

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function time(n: number, fn: () => void): number[] {
	const out: number[] = [];
	for (let i = 0; i < n; i++) {
		const t = Bun.nanoseconds();
		fn();
		out.push((Bun.nanoseconds() - t) / 1000);
	}
	return out;
}

try {
	const nl = openNetlink(path);
	createVeth(nl, "eth0", "eth1");
	time(50, () => linkStats(path, "eth0")); // warm-up (JIT)
	const perOpen = median(time(N, () => linkStats(path, "eth0")));
	time(50, () => getLink(nl, "eth0"));
	const reused = median(time(N, () => getLink(nl, "eth0")));
	const all = median(time(N, () => linkStats(path)));
	nl.close();
	const ip = median(
		time(100, () => {
			Bun.spawnSync(["ip", "-s", "-n", name, "link", "show", "eth0"], { stdout: "pipe" });
		}),
	);
	const f = (us: number) => `${us.toFixed(1).padStart(8)} µs`;
	console.log(`link-stat queries (${N} each, median per query):`);
	console.log(`  linkStats(netns, "eth0")  socket per query ${f(perOpen)}`);
	console.log(`  getLink(nl, "eth0")       reused socket    ${f(reused)}`);
	console.log(`  linkStats(netns)          all 3 links      ${f(all)}`);
	console.log(`  ip -s -n NS link show     spawn (100 runs) ${f(ip)}`);
	console.log(
		`  ratio ip / linkStats: ${(ip / perOpen).toFixed(0)}x, ip / reused socket: ${(ip / reused).toFixed(0)}x`,
	);
} finally {
	removeNetns(path);
}
