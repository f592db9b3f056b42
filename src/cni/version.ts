// CNI spec versions: comparison and the set ctrnet speaks. Pure.

/** Every spec version ctrnet can read and write results in, oldest first. */
export const SUPPORTED_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];
export const LATEST_VERSION = "1.1.0";

function parts(v: string): number[] {
	const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
	if (!m) throw new Error(`invalid CNI version ${JSON.stringify(v)}`);
	return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function isVersion(v: string): boolean {
	return /^\d+\.\d+\.\d+$/.test(v);
}

/** <0, 0, >0 like a sort comparator. */
export function compareVersions(a: string, b: string): number {
	const pa = parts(a);
	const pb = parts(b);
	for (let i = 0; i < 3; i++) {
		const d = (pa[i] ?? 0) - (pb[i] ?? 0);
		if (d !== 0) return d;
	}
	return 0;
}

export const atLeast = (v: string, min: string) => compareVersions(v, min) >= 0;

/**
 * The version a list runs at: the highest of `cniVersions` that ctrnet supports (CNI 1.1's list
 * field), else `cniVersion`, else 0.1.0 like libcni when a config names none.
 */
export function pickListVersion(cniVersion: string | undefined, cniVersions?: string[]): string {
	const usable = (cniVersions ?? []).filter((v) => isVersion(v) && SUPPORTED_VERSIONS.includes(v));
	if (usable.length > 0) return usable.sort(compareVersions).at(-1) as string;
	return cniVersion || "0.1.0";
}
