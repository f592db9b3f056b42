// IP literal recognition without node:net: importing node:net costs the forwarder ~5 MB of RSS
// (measured in the compiled binary), a big share of its 40 MiB budget. Pure.

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const GROUP = /^[0-9a-fA-F]{1,4}$/;

function isV6(s: string): boolean {
	let text = s;
	const lastColon = text.lastIndexOf(":");
	if (lastColon >= 0 && text.includes(".", lastColon)) {
		// An IPv4 tail (::ffff:10.0.2.100) stands for two groups.
		if (!V4.test(text.slice(lastColon + 1))) return false;
		text = `${text.slice(0, lastColon + 1)}0:0`;
	}
	const halves = text.split("::");
	if (halves.length > 2) return false;
	const parts = halves.map((h) => (h === "" ? [] : h.split(":")));
	if (!parts.every((p) => p.every((g) => GROUP.test(g)))) return false;
	const n = parts.reduce((acc, p) => acc + p.length, 0);
	return halves.length === 2 ? n < 8 : n === 8;
}

/** 4, 6, or 0 when `s` is not an IP literal (as node's net.isIP, without zones). */
export function ipVersion(s: string): 0 | 4 | 6 {
	if (V4.test(s)) return 4;
	return s.includes(":") && isV6(s) ? 6 : 0;
}
