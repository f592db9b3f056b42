import { expect, test } from "bun:test";
import { errnoName, SysError } from "../../ffi/errno";
import { parseIptablesVersion } from "../../src/host/facts";
import { parseSlirpFeatures, parseSlirpVersion } from "../../src/slirp/features";

test("slirp4netns --help features (podman's checkSlirpFlags list)", () => {
	const help = "--mtu=MTU  specify MTU\n--cidr=CIDR\n--disable-host-loopback  prohibit\n";
	expect(parseSlirpFeatures(help)).toEqual(["--disable-host-loopback", "--mtu", "--cidr"]);
	expect(parseSlirpVersion("slirp4netns version 1.2.0\ncommit: abc\n")).toBe("1.2.0");
	expect(parseSlirpVersion("garbage")).toBe("unknown");
});

test("iptables backend", () => {
	expect(parseIptablesVersion("iptables v1.8.9 (nf_tables)\n")).toEqual({
		version: "1.8.9",
		backend: "nf_tables",
	});
	expect(parseIptablesVersion("iptables v1.8.9 (legacy)")).toEqual({
		version: "1.8.9",
		backend: "legacy",
	});
	expect(parseIptablesVersion("iptables v1.6.1")).toEqual({ version: "1.6.1", backend: "legacy" });
	expect(parseIptablesVersion("nope")).toBeNull();
});

test("errno names", () => {
	expect(errnoName(9)).toBe("EBADF");
	expect(errnoName(2)).toBe("ENOENT");
	expect(errnoName(4242)).toBe("E4242");
	const e = new SysError("setns", 9, "fd 99");
	expect(e.message).toBe("setns fd 99: EBADF");
	expect(e.code).toBe("EBADF");
});
