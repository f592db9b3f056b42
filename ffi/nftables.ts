// libnftables (the nftables project's own library, Debian `libnftables1`) through bun:ffi: the
// native backend's firewall speaks nft's command language to it, one batch per call, and the
// library turns each batch into one netlink transaction (all or nothing).
//
// Loaded lazily: only the native backend needs it, and dlopen of the library (and of libnftnl,
// libmnl, libgmp, libjansson, libxtables behind it) costs start-up time the CNI backend must not
// pay. A context opens its netlink socket in nft_ctx_new, so a context made inside another network
// namespace (inNetns) keeps acting on that namespace afterwards.
import { dlopen, FFIType as T } from "bun:ffi";

/** The soname we ask the dynamic linker for; named in the error when it is missing. */
export const LIBNFTABLES = "libnftables.so.1";

// include/nftables/libnftables.h
const NFT_CTX_DEFAULT = 0;
export const NFT_CTX_OUTPUT_JSON = 1 << 4;

const symbols = {
	nft_ctx_new: { args: [T.u32], returns: T.ptr },
	nft_ctx_free: { args: [T.ptr], returns: T.void },
	nft_ctx_output_set_flags: { args: [T.ptr, T.u32], returns: T.void },
	nft_ctx_buffer_output: { args: [T.ptr], returns: T.i32 },
	nft_ctx_get_output_buffer: { args: [T.ptr], returns: T.cstring },
	nft_ctx_buffer_error: { args: [T.ptr], returns: T.i32 },
	nft_ctx_get_error_buffer: { args: [T.ptr], returns: T.cstring },
	nft_run_cmd_from_buffer: { args: [T.ptr, T.ptr], returns: T.i32 },
} as const;

// glibc mallopt(3) parameters (malloc.h), not kernel numbers.
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;

/**
 * libnftables rebuilds its cache of the ruleset before each transaction (ours bump the
 * generation), allocating four 128 KiB hash tables per table on the host and freeing them after.
 * With glibc's defaults each comes from a fresh mmap, so every transaction page-faults half a MiB
 * per table in again; keeping such blocks on the heap makes the second and later transactions of
 * a process pay for the walk only. Process-wide, so done only once the native backend is in use.
 */
function keepCacheMemory(): void {
	try {
		const { symbols } = dlopen("libc.so.6", {
			mallopt: { args: [T.i32, T.i32], returns: T.i32 },
		});
		symbols.mallopt(M_MMAP_THRESHOLD, 4 << 20);
		symbols.mallopt(M_TRIM_THRESHOLD, 64 << 20);
	} catch {
		// Not glibc: slower transactions, nothing worse.
	}
}

type Lib = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
const libs = new Map<string, Lib>();

/** Thrown when libnftables cannot be loaded; the caller turns it into a user-facing error. */
export class NftablesMissing extends Error {
	override name = "NftablesMissing";
}

function load(soname: string): Lib {
	let lib = libs.get(soname);
	if (lib) return lib;
	try {
		lib = dlopen(soname, symbols).symbols;
	} catch (err) {
		throw new NftablesMissing(err instanceof Error ? err.message : String(err));
	}
	if (libs.size === 0) keepCacheMemory();
	libs.set(soname, lib);
	return lib;
}

/** What one nft_run_cmd_from_buffer call reported. */
export interface NftResult {
	ok: boolean;
	/** Listing output (text, or JSON with NFT_CTX_OUTPUT_JSON). */
	output: string;
	/** nft's error messages, with the failing command and a caret line, as `nft` prints them. */
	error: string;
}

/** One libnftables context: a netlink socket plus nft's cache of the kernel ruleset. */
export interface NftContext {
	/** Runs a batch of nft commands (newline- or semicolon-separated) as one transaction. */
	run(commands: string): NftResult;
	/** Output flags (NFT_CTX_OUTPUT_*), e.g. JSON for listings that are parsed. */
	setOutputFlags(flags: number): void;
	free(): void;
}

/**
 * Opens a context in the calling thread's network namespace, with output and errors captured
 * into buffers (never written to our stdout/stderr). Throws NftablesMissing without the library
 * (`soname` is for tests of that case).
 */
export function openNftContext(soname = LIBNFTABLES): NftContext {
	const L = load(soname);
	const ctx = L.nft_ctx_new(NFT_CTX_DEFAULT);
	if (ctx === null) throw new Error("nft_ctx_new failed");
	if (L.nft_ctx_buffer_output(ctx) !== 0 || L.nft_ctx_buffer_error(ctx) !== 0) {
		L.nft_ctx_free(ctx);
		throw new Error("libnftables: cannot buffer output");
	}
	let freed = false;
	return {
		run(commands) {
			if (freed) throw new Error("nft context used after free");
			const rc = L.nft_run_cmd_from_buffer(ctx, Buffer.from(`${commands}\0`));
			// Reading a buffer rewinds it, so every call starts with empty buffers.
			const output = String(L.nft_ctx_get_output_buffer(ctx) ?? "");
			const error = String(L.nft_ctx_get_error_buffer(ctx) ?? "");
			return { ok: rc === 0, output, error };
		},
		setOutputFlags(flags) {
			L.nft_ctx_output_set_flags(ctx, flags);
		},
		free() {
			if (freed) return;
			freed = true;
			L.nft_ctx_free(ctx);
		},
	};
}
