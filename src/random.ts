// Random names (temp files, namespaces, staging dirs). A leaf with no imports: pure code that
// names things must not load ffi/libc just to draw random bytes.

/**
 * `n` random bytes as hex, from the Web Crypto RNG: node:crypto's randomBytes costs its module's
 * start-up (a few ms) in every run that writes a file.
 */
export function randomHex(n: number): string {
	return Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("hex");
}
