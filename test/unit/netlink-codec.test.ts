// The rtnetlink codec against bytes the real world produced: requests captured with
// `strace -xx ip …` (iproute2 6.1) and replies captured from the kernel (6.18).
import { describe, expect, test } from "bun:test";
import { formatIp, formatMac, parseIp, parseMac } from "../../src/ip/address";
import { parseCidr } from "../../src/ip/cidr";
import {
	addressRequest,
	align4,
	bytes,
	decodeAddress,
	decodeAttrList,
	decodeAttrs,
	decodeError,
	decodeLink,
	decodeMessages,
	decodeRoute,
	encodeAttrs,
	encodeIfaddrmsg,
	encodeIfinfomsg,
	encodeMessage,
	encodeRtmsg,
	getStr,
	IFLA_IFNAME,
	IFLA_INFO_DATA,
	IFLA_INFO_KIND,
	IFLA_LINKINFO,
	IFLA_MTU,
	NetlinkError,
	NLM_F_ACK,
	NLM_F_CREATE,
	NLM_F_EXCL,
	NLM_F_REQUEST,
	NLMSG_ERROR,
	newLinkAttrs,
	RTM_NEWADDR,
	RTM_NEWLINK,
	RTM_NEWROUTE,
	routeRequest,
	str,
	u32,
	VETH_INFO_PEER,
	vethPeerData,
} from "../../src/netlink";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\\x|\s/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const CREATE = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
// nlmsghdr as iproute2 wrote it: len, type, flags 0x605, seq 1795958896 (0x6b0c5370), pid 0
const hdr = (len: number, type: number) => {
	const b = new Uint8Array(16);
	const v = new DataView(b.buffer);
	v.setUint32(0, len, true);
	v.setUint16(4, type, true);
	v.setUint16(6, 0x605, true);
	v.setUint32(8, 1795958896, true);
	return b;
};
const SEQ = 1795958896;

describe("encoding matches iproute2 byte for byte", () => {
	test("ip link add t3v0 mtu 1400 type veth peer name t3v1 (nested attrs, ifinfomsg head)", () => {
		const body = hex(
			"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x08\\x00\\x04\\x00\\x78\\x05\\x00\\x00\\x09\\x00\\x03\\x00\\x74\\x33\\x76\\x30\\x00\\x00\\x00\\x00\\x30\\x00\\x12\\x00\\x08\\x00\\x01\\x00\\x76\\x65\\x74\\x68\\x24\\x00\\x02\\x00\\x20\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x09\\x00\\x03\\x00\\x74\\x33\\x76\\x31\\x00\\x00\\x00\\x00",
		);
		const wire = new Uint8Array([...hdr(100, RTM_NEWLINK), ...body]);
		// iproute2 puts IFLA_MTU before IFLA_IFNAME and gives the peer no MTU.
		const msg = encodeMessage({ type: RTM_NEWLINK, flags: CREATE, seq: SEQ }, encodeIfinfomsg(), [
			{ type: IFLA_MTU, value: u32(1400) },
			{ type: IFLA_IFNAME, value: str("t3v0") },
			{
				type: IFLA_LINKINFO,
				value: [
					{ type: IFLA_INFO_KIND, value: bytes("veth") },
					{ type: IFLA_INFO_DATA, value: vethPeerData("t3v1", {}) },
				],
			},
		]);
		expect(toHex(msg)).toBe(toHex(wire));
		// ctrnet's own builder: same attributes, name first (order does not matter to the kernel).
		const ours = newLinkAttrs("t3v0", "veth", { mtu: 1400, data: vethPeerData("t3v1", {}) });
		const ifi = encodeIfinfomsg();
		const m2 = encodeMessage({ type: RTM_NEWLINK, flags: CREATE, seq: SEQ }, ifi, ours);
		expect(m2.byteLength).toBe(wire.byteLength);
		expect(decodeAttrs(m2.subarray(32)).get(IFLA_LINKINFO)).toEqual(
			decodeAttrs(wire.subarray(32)).get(IFLA_LINKINFO) as Uint8Array,
		);
	});

	test("ip addr add 10.213.1.1/24 dev <ifindex 3>", () => {
		const wire = new Uint8Array([
			...hdr(40, RTM_NEWADDR),
			...hex("0218000003000000080002000ad50101080001000ad50101"),
		]);
		const r = addressRequest(3, "10.213.1.1/24", { broadcast: false });
		expect(
			toHex(encodeMessage({ type: RTM_NEWADDR, flags: CREATE, seq: SEQ }, r.body, r.attrs)),
		).toBe(toHex(wire));
		// with the broadcast ctrnet adds by default (`brd +`): 10.213.1.255
		const b = addressRequest(3, "10.213.1.1/24");
		expect(toHex(encodeAttrs(b.attrs))).toEndWith("080004000ad501ff");
	});

	test("ip route add default via 10.213.1.254", () => {
		const wire = new Uint8Array([
			...hdr(36, RTM_NEWROUTE),
			...hex("02000000fe03000100000000080005000ad501fe"),
		]);
		const r = routeRequest({ dst: "default", gateway: "10.213.1.254" }, undefined);
		expect(
			toHex(encodeMessage({ type: RTM_NEWROUTE, flags: CREATE, seq: SEQ }, r.body, r.attrs)),
		).toBe(toHex(wire));
	});

	test("ip route add 10.213.5.0/24 dev <ifindex 3> (scope link)", () => {
		const wire = new Uint8Array([
			...hdr(44, RTM_NEWROUTE),
			...hex("02180000fe03fd0100000000080001000ad505000800040003000000"),
		]);
		const r = routeRequest({ dst: "10.213.5.0/24" }, 3);
		expect(
			toHex(encodeMessage({ type: RTM_NEWROUTE, flags: CREATE, seq: SEQ }, r.body, r.attrs)),
		).toBe(toHex(wire));
	});

	test("ip -6 route add default via fd21:3::1: same rtmsg; iproute2 adds a zero RTA_DST we omit", () => {
		const r = routeRequest({ dst: "default", gateway: "fd21:3::1" }, undefined);
		expect(toHex(r.body)).toBe("0a000000fe030001 00000000".replace(/ /g, ""));
		expect(toHex(encodeAttrs(r.attrs))).toBe("14000500fd210003000000000000000000000001");
		expect(r.name).toBe("::/0");
	});
});

describe("attributes", () => {
	test("4-byte alignment: rta_len excludes padding, the next attr starts aligned", () => {
		const b = encodeAttrs([
			{ type: 3, value: str("a") }, // 4 + 2 = 6 -> padded to 8
			{ type: 4, value: u32(7) },
		]);
		expect(toHex(b)).toBe("060003006100000008000400" + "07000000");
		expect(align4(5)).toBe(8);
		expect(align4(8)).toBe(8);
		const list = decodeAttrList(b);
		expect(list.map(([t, v]) => [t, v.byteLength])).toEqual([
			[3, 2],
			[4, 4],
		]);
	});

	test("nested, with NLA_F_NESTED masked off on decode and a struct head", () => {
		const b = encodeAttrs([
			{ type: 18, nestedFlag: true, value: [{ type: 1, value: str("br") }] },
			{
				type: VETH_INFO_PEER,
				head: encodeIfinfomsg({ index: 9 }),
				value: [{ type: 3, value: str("x") }],
			},
		]);
		const outer = decodeAttrs(b);
		expect(toHex(b.subarray(0, 4))).toBe("0c001280");
		expect(getStr(decodeAttrs(outer.get(18) as Uint8Array).get(1))).toBe("br");
		const peer = outer.get(VETH_INFO_PEER) as Uint8Array;
		expect(new DataView(peer.buffer, peer.byteOffset).getInt32(4, true)).toBe(9);
		expect(getStr(decodeAttrs(peer.subarray(16)).get(3))).toBe("x");
	});

	test("truncated input stops cleanly", () => {
		expect(decodeAttrList(hex("0800030061"))).toEqual([]);
		expect(decodeMessages(hex("1400000002000000"))).toEqual([]);
	});

	test("fixed headers", () => {
		expect(toHex(encodeIfinfomsg({ family: 0, index: 5, flags: 1, change: 1 }))).toBe(
			"00000000050000000100000001000000",
		);
		expect(toHex(encodeIfaddrmsg({ family: 10, prefixLen: 64, scope: 253, index: 2 }))).toBe(
			"0a4000fd02000000",
		);
		expect(toHex(encodeRtmsg({ family: 2, dstLen: 8, table: 254, type: 1 }))).toBe(
			"02080000fe000001" + "00000000",
		);
	});
});

describe("decoding kernel replies", () => {
	test("RTM_NEWLINK of a veth (captured): name, mtu, mac, peer, kind, operstate, IFLA_STATS64", () => {
		const link = decodeLink(hex(LINK_T3V0));
		expect(link).toMatchObject({
			index: 3,
			name: "t3v0",
			up: true,
			lowerUp: true,
			mtu: 1400,
			mac: "02:00:00:00:13:01",
			kind: "veth",
			link: 2,
			operstate: "UP",
		});
		expect(link.master).toBeUndefined();
		expect(link.stats64).toEqual({
			rx_packets: 7,
			tx_packets: 8,
			rx_bytes: 586,
			tx_bytes: 756,
			rx_errors: 0,
			tx_errors: 0,
			rx_dropped: 0,
			tx_dropped: 0,
		});
	});

	test("NLMSG_ERROR with extended ack (captured: duplicate address)", () => {
		const [m] = decodeMessages(
			hex(
				"60000000020000020700000024660000efffffff280000001400050607000000000000000218000003000000080002000ad50101080001000ad5010123000100697076343a204164647265737320616c72656164792061737369676e65640000",
			),
		);
		expect(m?.type).toBe(NLMSG_ERROR);
		expect(m?.seq).toBe(7);
		expect(decodeError(m?.payload as Uint8Array, m?.flags as number)).toEqual({
			errno: 17,
			message: "ipv4: Address already assigned",
		});
		const e = new NetlinkError(
			"add address 10.213.1.1/24 dev t3v0",
			17,
			"ipv4: Address already assigned",
		);
		expect(e.message).toBe(
			"netlink: add address 10.213.1.1/24 dev t3v0: EEXIST: ipv4: Address already assigned",
		);
		expect(e.code).toBe("EEXIST");
	});

	test("an ack is error 0; a capped error without TLVs has no message", () => {
		const ack = hex("00000000" + "14000000120005000100000000000000");
		expect(decodeError(ack, 0x100)).toEqual({ errno: 0 });
		expect(decodeError(hex("edffffff"), 0)).toEqual({ errno: 19 });
	});

	test("RTM_NEWADDR and RTM_NEWROUTE payloads", () => {
		// ifaddrmsg(2, /24, 0x80, scope 0, if 3) + IFA_ADDRESS + IFA_LOCAL + IFA_LABEL "t3v0"
		const addr = decodeAddress(
			hex("0218800003000000080001000ad50101080002000ad50101090003007433763000000000"),
		);
		expect(addr).toEqual({
			index: 3,
			family: 4,
			address: "10.213.1.1",
			prefixLen: 24,
			scope: "global",
			flags: 0x80,
			label: "t3v0",
		});
		// rtmsg(v6, /0, main, boot, universe, unicast) + RTA_GATEWAY + RTA_OIF 3 + RTA_PRIORITY 1024
		const route = decodeRoute(
			hex(
				"0a000000fe03000100000000" +
					"14000500fd210003000000000000000000000001" +
					"0800040003000000" +
					"0800060000040000",
			),
		);
		expect(route).toEqual({
			family: 6,
			dst: "::/0",
			gateway: "fd21:3::1",
			oif: 3,
			metric: 1024,
			table: 254,
			protocol: 3,
			scope: "global",
			type: 1,
			cloned: false,
		});
	});
});

describe("addresses", () => {
	test("IPv6 text <-> bytes (RFC 5952 output)", () => {
		for (const [inp, out] of [
			["fd21:3::1", "fd21:3::1"],
			["::", "::"],
			["::1", "::1"],
			["FE80:0:0:0:0:0:0:1", "fe80::1"],
			["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
			["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
			["::ffff:10.0.0.1", "::ffff:a00:1"],
		]) {
			expect(formatIp(parseIp(inp as string))).toBe(out as string);
		}
		expect(formatIp(parseIp("10.213.0.1"))).toBe("10.213.0.1");
		expect(() => parseIp("10.0.0.256")).toThrow();
	});

	test("CIDR and MAC", () => {
		expect(parseCidr("10.213.1.1/24")).toEqual({ family: 4, address: "10.213.1.1", prefixLen: 24 });
		expect(parseCidr("fd00::1")).toEqual({ family: 6, address: "fd00::1", prefixLen: 128 });
		for (const bad of ["10.0.0.1/33", "10.0.0.1/", "x/8", "10.0.0.1/8/8", "fd00::/129"]) {
			expect(() => parseCidr(bad)).toThrow(/invalid CIDR/);
		}
		expect(formatMac(parseMac("02:AB:00:00:13:01"))).toBe("02:ab:00:00:13:01");
		expect(() => parseMac("02:ab:00:00:13")).toThrow();
	});

	test("route requests refuse mixed families", () => {
		expect(() => routeRequest({ dst: "10.0.0.0/8", gateway: "fd00::1" }, undefined)).toThrow();
	});
});

const LINK_T3V0 =
	"0000010003000000431001000000000009000300743376300000000008000d00e80300000500100006000000050011000000000005004300000000000800040078050000080032004400000008003300ffff000008001b000000000008001e000000000008003d000000000008001f000200000008002800ffff0000080029000000010008003a000000010008003f0000000100080040000000010008003b00f8ff070008003c00ffff0000080042000000000008002000020000000500210001000000080023000200000008002f000100000008003000010000000600440000000000060045000000000005002700000000000a00010002000000130100000a000200ffffffffffff0000cc001700070000000000000008000000000000004a02000000000000f4020000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006400070007000000080000004a020000f402000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c002b0005000200000000001000120009000100766574680000000008000500020000000c0006006e6f71756575650030031a008c00020088000100000000000000000000000000010000000100000001000000010000000000000001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010270000e80300000000000000000000000000000000000001000000a0020a00080001001000008014000500ffff000028770100a8810000e8030000f400020000000000400000007805000001000000010000000100000001000000ffffffffa00f0000e803000000000000803a0900805101000300000058020000100000000000000001000000010000000100000060ea000000000000000000000000000000000000000000000000000001000000000000000000000010270000e8030000010000000000000000000000010000000000000000000000010000000000000000000000000000000000000080ee360000000000000000000100000000000000000000000000000000000000000000000004000000000000ffff0000ffffffff010000000000000000000000000000003401030026000000000000000700000000000000e80100000000000000000000000000000700000000000000000000000000000000000000000000000000000000000000080000000000000008000000000000008402000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000700000000000000080000000000000000000000000000000000000000000000e801000000000000840200000000000000000000000000000000000000000000000000000000000000000000000000003c00060007000000000000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000000000000001400070000000000000000000000000000000000050008000000000024000e00000000000000000000000000000000000000000000000000000000000000000004003e8004004180";
