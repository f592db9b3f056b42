// The iptables-layout firewall writes rules through nf_tables itself: each rule shape it uses must
// be byte for byte what iptables-nft writes for the same iptables arguments, or `iptables -S`
// would print something else (or call the table incompatible). Here iptables writes each shape in
// a namespace of the test's own, our dump reads it back, and the two must compare equal; then our
// encoding is written and iptables must print it as netavark's text. Then the driver itself, on
// what only the kernel can say: a chain that something else still jumps to.
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { openIptablesFirewall } from "../../src/firewall/iptables/driver";
import * as X from "../../src/firewall/iptables/expr";
import { networkHash } from "../../src/firewall/iptables/layout";
import {
	dumpRules,
	NFPROTO_IPV4,
	NFPROTO_IPV6,
	type NfFamily,
	nftTransaction,
	openNetfilter,
} from "../../src/netlink/nftables";
import { have } from "../lib/cli";
import { must, sh } from "../lib/host";

const ok = have(["ip", "iptables", "ip6tables"], true);

interface Shape {
	family: 4 | 6;
	table: "nat" | "filter";
	chain: string;
	/** iptables arguments after `-A CHAIN`, and what `iptables -S` prints for them. */
	args: string[];
	printed: string;
	exprs: X.Expr[];
}

const v4 = (table: Shape["table"], chain: string, args: string, printed: string, exprs: X.Expr[]) =>
	({ family: 4, table, chain, args: args.split(" "), printed, exprs }) as Shape;
const v6 = (table: Shape["table"], chain: string, args: string, printed: string, exprs: X.Expr[]) =>
	({ family: 6, table, chain, args: args.split(" "), printed, exprs }) as Shape;

const SHAPES: Shape[] = [
	v4("nat", "POSTROUTING", "-s 10.88.0.0/16 -j TC", "-A POSTROUTING -s 10.88.0.0/16 -j TC", [
		...X.addr(4, "src", "10.88.0.0/16"),
		X.counter(),
		X.jump("TC"),
	]),
	v4("nat", "TC", "-d 10.88.0.0/16 -j ACCEPT", "-A TC -d 10.88.0.0/16 -j ACCEPT", [
		...X.addr(4, "dst", "10.88.0.0/16"),
		X.counter(),
		X.accept(),
	]),
	v4("nat", "TC", "! -d 224.0.0.0/4 -j MASQUERADE", "-A TC ! -d 224.0.0.0/4 -j MASQUERADE", [
		...X.addr(4, "dst", "224.0.0.0/4", true),
		X.counter(),
		X.masquerade(4),
	]),
	v6("nat", "TC", "! -d ff00::/8 -j MASQUERADE", "-A TC ! -d ff00::/8 -j MASQUERADE", [
		...X.addr(6, "dst", "ff00::/8", true),
		X.counter(),
		X.masquerade(6),
	]),
	v6("nat", "POSTROUTING", "-s fd10:88:a::/64 -j TC", "-A POSTROUTING -s fd10:88:a::/64 -j TC", [
		...X.addr(6, "src", "fd10:88:a::/64"),
		X.counter(),
		X.jump("TC"),
	]),
	v4(
		"filter",
		"FORWARD",
		"-m comment --comment netavark_firewall_plugin_rules -j TC",
		"-A FORWARD -m comment --comment netavark_firewall_plugin_rules -j TC",
		[X.comment("netavark_firewall_plugin_rules"), X.counter(), X.jump("TC")],
	),
	v4(
		"filter",
		"TC",
		"-d 10.88.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		"-A TC -d 10.88.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		[...X.addr(4, "dst", "10.88.0.0/16"), X.ctstateRelatedEstablished(), X.counter(), X.accept()],
	),
	v4("filter", "TC", "-i isolate2 ! -o isolate2 -j TC2", "-A TC -i isolate2 ! -o isolate2 -j TC2", [
		...X.iface("in", "isolate2"),
		...X.iface("out", "isolate2", true),
		X.counter(),
		X.jump("TC2"),
	]),
	v4("filter", "TC2", "-o isolate2 -j DROP", "-A TC2 -o isolate2 -j DROP", [
		...X.iface("out", "isolate2"),
		X.counter(),
		X.drop(),
	]),
	v4(
		"nat",
		"PREROUTING",
		"-m addrtype --dst-type LOCAL -j TP",
		"-A PREROUTING -m addrtype --dst-type LOCAL -j TP",
		[X.dstTypeLocal(), X.counter(), X.jump("TP")],
	),
	v4("nat", "TC", "-j MARK --set-xmark 0x2000/0x2000", "-A TC -j MARK --set-xmark 0x2000/0x2000", [
		X.counter(),
		X.setXmark(0x2000, 0x2000),
	]),
	v4(
		"nat",
		"POSTROUTING",
		"-m comment --comment masq -m mark --mark 0x2000/0x2000 -j MASQUERADE",
		"-A POSTROUTING -m comment --comment masq -m mark --mark 0x2000/0x2000 -j MASQUERADE",
		[X.comment("masq"), ...X.markMatch(0x2000, 0x2000), X.counter(), X.masquerade(4)],
	),
	v4(
		"nat",
		"TC",
		"-p tcp --dport 8080:8081 -m comment --comment dnat -j TC2",
		"-A TC -p tcp -m tcp --dport 8080:8081 -m comment --comment dnat -j TC2",
		[...X.proto("tcp"), ...X.dport(8080, 8081), X.comment("dnat"), X.counter(), X.jump("TC2")],
	),
	v4(
		"nat",
		"PREROUTING",
		"-d 10.88.0.1 -p udp --dport 53 -j DNAT --to-destination 10.88.0.1:5353",
		"-A PREROUTING -d 10.88.0.1/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.88.0.1:5353",
		[
			...X.proto("udp"),
			...X.addr(4, "dst", "10.88.0.1/32"),
			...X.dport(53),
			X.counter(),
			X.dnat("10.88.0.1", 5353),
		],
	),
	v4(
		"nat",
		"PREROUTING",
		"-d 127.0.0.1 -p tcp --dport 8080:8081 -j DNAT --to-destination 10.88.0.2:80-81/8080",
		"-A PREROUTING -d 127.0.0.1/32 -p tcp -m tcp --dport 8080:8081 -j DNAT --to-destination 10.88.0.2:80-81/8080",
		[
			...X.proto("tcp"),
			...X.addr(4, "dst", "127.0.0.1/32"),
			...X.dport(8080, 8081),
			X.counter(),
			X.dnat("10.88.0.2", 80, 81, 8080),
		],
	),
	v4(
		"nat",
		"TC",
		"-s 127.0.0.1 -p tcp --dport 8080 -j TC2",
		"-A TC -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j TC2",
		[
			...X.proto("tcp"),
			...X.addr(4, "src", "127.0.0.1/32"),
			...X.dport(8080),
			X.counter(),
			X.jump("TC2"),
		],
	),
	v6(
		"nat",
		"PREROUTING",
		"-d fd10:88:a::1 -p udp --dport 53 -j DNAT --to-destination [fd10:88:a::1]:5353",
		"-A PREROUTING -d fd10:88:a::1/128 -p udp -m udp --dport 53 -j DNAT --to-destination [fd10:88:a::1]:5353",
		[
			...X.proto("udp"),
			...X.addr(6, "dst", "fd10:88:a::1/128"),
			...X.dport(53),
			X.counter(),
			X.dnat("fd10:88:a::1", 5353),
		],
	),
];

const family = (f: 4 | 6): NfFamily => (f === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
const ipt = (f: 4 | 6) => (f === 4 ? "iptables" : "ip6tables");

describe.if(ok)("iptables-nft's encoding", () => {
	test("every rule shape of netavark's layout: ours equals iptables' own, and prints as its text", () => {
		const ns = `tix-${randomBytes(3).toString("hex")}`;
		must(["ip", "netns", "add", ns]);
		const inNs = (...cmd: string[]) => must(["ip", "netns", "exec", ns, ...cmd]);
		try {
			for (const f of [4, 6] as const) {
				for (const t of ["nat", "filter"])
					for (const c of ["TC", "TC2", "TP"]) inNs(ipt(f), "-t", t, "-N", c);
			}
			for (const s of SHAPES) {
				inNs(ipt(s.family), "-t", s.table, "-A", s.chain, ...s.args);
				const nl = openNetfilter(`/run/netns/${ns}`);
				try {
					const rules = dumpRules(nl, family(s.family)).filter(
						(r) => r.table === s.table && r.chain === s.chain,
					);
					const theirs = rules.at(-1);
					expect(theirs).toBeDefined();
					expect(X.fingerprintOf(s.exprs)).toBe(X.fingerprint(theirs?.expressions as Uint8Array));
					// Now ours, written by us, read by iptables: the same line again.
					nftTransaction(nl, family(s.family), [
						{ kind: "rule", table: s.table, chain: s.chain, expressions: s.exprs },
					]);
				} finally {
					nl.close();
				}
				const lines = inNs(ipt(s.family), "-t", s.table, "-S", s.chain).trim().split("\n");
				expect(lines.slice(-2)).toEqual([s.printed, s.printed]);
			}
		} finally {
			sh(["ip", "netns", "del", ns]);
		}
		expect(sh(["ip", "netns", "list"]).out).not.toContain(ns);
	});
});

/** A scratch namespace with the driver opened in it; `run` gets both, the namespace goes after. */
function inScratchNs(
	run: (fw: ReturnType<typeof openIptablesFirewall>, inNs: (...cmd: string[]) => string) => void,
): void {
	const ns = `tix-${randomBytes(3).toString("hex")}`;
	must(["ip", "netns", "add", ns]);
	const fw = openIptablesFirewall({ netnsPath: `/run/netns/${ns}` });
	try {
		run(fw, (...cmd) => must(["ip", "netns", "exec", ns, ...cmd]));
	} finally {
		fw.close();
		sh(["ip", "netns", "del", ns]);
	}
	expect(sh(["ip", "netns", "list"]).out).not.toContain(ns);
}

const scratchNet = (name: string, subnet: string) => ({
	name,
	bridge: `${name}0`,
	subnets: [subnet],
	internal: false,
	isolate: false,
});

const tcpTo = (containerIP: string, hostPort: number) => ({
	hostIP: "",
	hostPort,
	containerPort: 80,
	protocol: "tcp" as const,
	containerIP,
});

describe.if(ok)("the iptables driver in a namespace of its own", () => {
	test("300 ports one by one: one transaction of 1200 rules, in and out", () => {
		inScratchNs((fw, inNs) => {
			const net = scratchNet("tixp", "10.98.0.0/24");
			// Every other port: no two of them make a range, so each is rules of its own.
			const ports = Array.from({ length: 300 }, (_, i) => tcpTo("10.98.0.2", 20000 + 2 * i));
			fw.setup(net, ports, { containerId: "c1" });
			const dnat = () =>
				inNs("iptables", "-t", "nat", "-S")
					.split("\n")
					.filter((l) => l.includes("-j DNAT"));
			expect(dnat()).toHaveLength(300);
			fw.teardown(net, ports, { lastOnNetwork: false, containerId: "c1" });
			expect(dnat()).toEqual([]);
		});
	});

	test("a network's last teardown keeps a chain something else still jumps to, and removes the rest", () => {
		inScratchNs((fw, inNs) => {
			const net = scratchNet("tix", "10.99.0.0/24");
			const ports = [tcpTo("10.99.0.2", 8080)];
			fw.setup(net, ports, { containerId: "c1" });
			const chain = `NETAVARK-${networkHash("tix")}`;
			expect(inNs("iptables", "-t", "nat", "-S", "POSTROUTING")).toContain(
				`-s 10.99.0.0/24 -j ${chain}`,
			);
			inNs("iptables", "-t", "nat", "-N", "FOREIGN");
			inNs("iptables", "-t", "nat", "-A", "FOREIGN", "-j", chain);
			fw.teardown(net, ports, { lastOnNetwork: false, containerId: "c1" });
			fw.teardown(net, [], { lastOnNetwork: true, containerId: "c1" });
			const nat = inNs("iptables", "-t", "nat", "-S");
			expect(nat).toContain(`-N ${chain}`); // still jumped to: kept, empty
			expect(nat).not.toContain(`-A ${chain} `);
			expect(nat).not.toContain("10.99.0.");
			expect(nat).not.toContain(`NETAVARK-DN-${networkHash("tix")}`);
			inNs("iptables", "-t", "nat", "-F", "FOREIGN");
			fw.wipe();
			expect(inNs("iptables-save")).not.toContain("NETAVARK");
		});
	});
});
