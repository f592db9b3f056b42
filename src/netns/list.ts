// The namespaces in a netns dir: ctrnet's and those of `ip netns add` alike (same layout).
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { netnsInode, readMountinfo } from "./mountinfo";

export interface NetnsEntry {
	name: string;
	path: string;
	/** A namespace is mounted on the file; false for a stale, empty file. */
	mounted: boolean;
	/** The namespace's inode (`net:[N]`), when mounted. */
	inode?: number;
}

export function listNetns(dir: string): NetnsEntry[] {
	if (!existsSync(dir)) return [];
	const real = realpathSync(dir);
	const inodes = new Map<string, number | undefined>();
	for (const m of readMountinfo()) {
		// The last mount on a path is the visible one.
		if (m.mountPoint.startsWith(`${real}/`)) inodes.set(m.mountPoint, netnsInode(m));
	}
	return readdirSync(dir, { withFileTypes: true })
		.filter((d) => d.isFile())
		.map((d) => d.name)
		.sort()
		.map((name) => {
			const inode = inodes.get(join(real, name));
			const e: NetnsEntry = { name, path: join(dir, name), mounted: inode !== undefined };
			if (inode !== undefined) e.inode = inode;
			return e;
		});
}
