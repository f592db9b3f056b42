// /etc/subuid and /etc/subgid: the ranges of ids a user may map into a user namespace (through
// the setuid newuidmap/newgidmap). The rootless network namespace maps root to the user and the
// first range above it, as podman does, so the user's containers can run with many ids. Pure.

export interface SubIdRange {
	start: number;
	count: number;
}

/** The user's first range: lines are `name-or-uid:start:count`. */
export function subIdRange(text: string, user: string, id: number): SubIdRange | undefined {
	for (const line of text.split("\n")) {
		const [who, start, count] = line.trim().split(":");
		if (who !== user && who !== String(id)) continue;
		const s = Number(start);
		const n = Number(count);
		if (Number.isInteger(s) && Number.isInteger(n) && s > 0 && n > 0) return { start: s, count: n };
	}
	return undefined;
}
