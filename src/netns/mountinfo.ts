// /proc/self/mountinfo, parsed (pure) — how we tell a namespace mount from an ordinary file.
// A bind-mounted netns shows up with fstype "nsfs" and root "net:[<inode>]".
import { readFileSync } from "node:fs";

export interface MountEntry {
	id: number;
	parent: number;
	/** The mounted object's root: "net:[4026532177]" for a netns bind mount. */
	root: string;
	mountPoint: string;
	/** Optional fields: "shared:N", "master:N", … */
	optional: string[];
	fsType: string;
	source: string;
}

// The kernel escapes space, tab, newline and backslash in paths as \ooo.
const unescapePath = (s: string) =>
	s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

export function parseMountinfo(text: string): MountEntry[] {
	const out: MountEntry[] = [];
	for (const line of text.split("\n")) {
		if (!line) continue;
		const f = line.split(" ");
		const sep = f.indexOf("-", 6);
		if (sep < 0 || f.length < sep + 3) continue;
		out.push({
			id: Number(f[0]),
			parent: Number(f[1]),
			root: unescapePath(f[3] ?? ""),
			mountPoint: unescapePath(f[4] ?? ""),
			optional: f.slice(6, sep),
			fsType: f[sep + 1] ?? "",
			source: unescapePath(f[sep + 2] ?? ""),
		});
	}
	return out;
}

export function readMountinfo(): MountEntry[] {
	return parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

/** "net:[4026532177]" -> 4026532177 (the namespace's inode, as `readlink /proc/PID/ns/net`). */
export function netnsInode(e: MountEntry): number | undefined {
	const m = e.fsType === "nsfs" ? e.root.match(/^net:\[(\d+)\]$/) : null;
	return m ? Number(m[1]) : undefined;
}

/** Mounts at `path`, bottom first (the order they were stacked). */
export function mountsAt(entries: MountEntry[], path: string): MountEntry[] {
	return entries.filter((e) => e.mountPoint === path);
}

// The kernel's escaping of a path in mountinfo (space, tab, newline, backslash as \ooo).
const escapePath = (s: string) =>
	s.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);

/**
 * mountsAt(parseMountinfo(text), path), parsing only the lines that hold the path as a field: a
 * host running containers has hundreds of mounts, and a teardown asks about one path, twice.
 */
export function mountsAtIn(text: string, path: string): MountEntry[] {
	const field = ` ${escapePath(path)} `;
	const lines: string[] = [];
	for (let at = text.indexOf(field); at >= 0; at = text.indexOf(field, at)) {
		const end = text.indexOf("\n", at);
		lines.push(text.slice(text.lastIndexOf("\n", at) + 1, end < 0 ? text.length : end));
		if (end < 0) break;
		at = end;
	}
	return mountsAt(parseMountinfo(lines.join("\n")), path);
}

export function readMountsAt(path: string): MountEntry[] {
	return mountsAtIn(readFileSync("/proc/self/mountinfo", "utf8"), path);
}
