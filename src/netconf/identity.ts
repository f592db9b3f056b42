// A network's identity fields as podman writes them: a 64-hex-digit ID and the creation time in
// Go's RFC3339Nano form.

function hex(bytes: Uint8Array): string {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * 32 random bytes in hex. Like podman's stringid, an ID whose 12-character short form is all
 * digits is drawn again: a short ID must never read as a number.
 */
export function newNetworkId(random: (n: number) => Uint8Array): string {
	for (;;) {
		const id = hex(random(32));
		if (!/^\d{12}/.test(id)) return id;
	}
}

/** A stable ID for a network that has no file yet (the default network is the same everywhere). */
export function stableNetworkId(seed: string): string {
	return new Bun.CryptoHasher("sha256").update(`ctrnet network ${seed}`).digest("hex");
}

/**
 * Go's time.RFC3339Nano in UTC: fraction digits without trailing zeros, none at all when zero.
 * Without `at`, the current time to the microsecond.
 */
export function formatCreated(at?: Date): string {
	const micros = at
		? at.getTime() * 1000
		: Math.round((performance.timeOrigin + performance.now()) * 1000);
	const seconds = Math.floor(micros / 1e6);
	const fraction = String(micros - seconds * 1e6)
		.padStart(6, "0")
		.replace(/0+$/, "");
	const base = new Date(seconds * 1000).toISOString().slice(0, 19);
	return `${base}${fraction ? `.${fraction}` : ""}Z`;
}
