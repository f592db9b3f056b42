// Real podman 4.3 with ctrnet as its network backend: a helper directory holding the built binary
// as `netavark` (and `rootlessport`) that podman finds through CONTAINERS_HELPER_BINARY_DIR, a
// busybox image made from Debian's /bin/busybox, and a runner for podman as root or as a user.
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { BIN } from "./cli";
import { must, sh } from "./host";

/** What podman needs on this host (cgroup v1 without systemd). */
export const PODMAN_GLOBAL = ["--runtime", "runc", "--cgroup-manager=cgroupfs"];
/** `podman run` limits that fit the host's own. */
export const RUN_LIMITS = ["--ulimit", "nofile=10000:10000", "--ulimit", "nproc=4096:4096"];

export const IMAGE = "localhost/tnv-busybox:latest";

/** A world-readable temp dir with the binary under each name (a hard link, else a copy). */
export function helperDir(names: string[], prefix = "/tmp/tnv-helpers-"): string {
	const dir = mkdtempSync(prefix);
	chmodSync(dir, 0o755);
	for (const name of names) {
		try {
			linkSync(BIN, `${dir}/${name}`);
		} catch {
			copyFileSync(BIN, `${dir}/${name}`);
			chmodSync(`${dir}/${name}`, 0o755);
		}
	}
	return dir;
}

/** A rootfs tarball holding only Debian's static /bin/busybox (and /tmp, /etc). */
export function busyboxTarball(prefix = "/tmp/tnv-image-"): { dir: string; tar: string } {
	const dir = mkdtempSync(prefix);
	chmodSync(dir, 0o755);
	for (const d of ["rootfs/bin", "rootfs/tmp", "rootfs/etc"])
		mkdirSync(`${dir}/${d}`, { recursive: true });
	copyFileSync("/bin/busybox", `${dir}/rootfs/bin/busybox`);
	chmodSync(`${dir}/rootfs/bin/busybox`, 0o755);
	const tar = `${dir}/rootfs.tar`;
	must(["tar", "-C", `${dir}/rootfs`, "-cf", tar, "."]);
	chmodSync(tar, 0o644);
	return { dir, tar };
}

export function removeDir(dir: string): void {
	rmSync(dir, { recursive: true, force: true });
}

export interface PodmanResult {
	code: number;
	out: string;
	err: string;
}

export interface PodmanRunner {
	(args: string[], opts?: { check?: boolean }): Promise<PodmanResult>;
	env: Record<string, string>;
}

/**
 * Runs podman (as `user` when given, through runuser with a clean environment) with the helper
 * dir in CONTAINERS_HELPER_BINARY_DIR, or without it (`helpers` undefined: podman's own netavark).
 * `check`: throw when podman fails.
 */
export function podmanRunner(helpers: string | undefined, user?: { name: string; home: string }) {
	const env: Record<string, string> = {
		PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
		HOME: user?.home ?? "/root",
		...(helpers ? { CONTAINERS_HELPER_BINARY_DIR: helpers } : {}),
		...(user ? { USER: user.name, LOGNAME: user.name } : {}),
	};
	const run = (async (args: string[], opts: { check?: boolean } = {}) => {
		const base = ["podman", ...PODMAN_GLOBAL, ...args];
		const argv = user
			? [
					"runuser",
					"-u",
					user.name,
					"--",
					"env",
					"-i",
					...Object.entries(env).map(([k, v]) => `${k}=${v}`),
					...base,
				]
			: base;
		const p = Bun.spawn(argv, {
			cwd: "/",
			env,
			stdin: "ignore",
			stdout: "pipe",
			stderr: "pipe",
		});
		const [out, err, code] = await Promise.all([
			new Response(p.stdout).text(),
			new Response(p.stderr).text(),
			p.exited,
		]);
		if (opts.check && code !== 0)
			throw new Error(`podman ${args.join(" ")} (${code}): ${err || out}`);
		return { code, out, err };
	}) as PodmanRunner;
	run.env = env;
	return run;
}

/** A busybox container command: httpd on port 80 serving `mark` as its page. */
export const web = (mark: string) => [
	"/bin/busybox",
	"sh",
	"-c",
	`echo ${mark} > /tmp/index.html; exec /bin/busybox httpd -f -p 80 -h /tmp`,
];

/** Host ports of the sockets `ss <flags>` lists (-Htuan: every socket, -Htuanl: listening ones). */
export function hostPortsInUse(flags: string): Set<number> {
	return new Set(
		sh(["ss", flags])
			.out.split("\n")
			.map((l) => Number(l.trim().split(/\s+/)[4]?.split(":").pop())),
	);
}

/** HTTP GET with curl (IPv6 literals in brackets); "" when nothing answered. */
export function curl(url: string): string {
	const r = sh(["curl", "-s", "-g", "-m", "5", url]);
	return r.code === 0 ? r.out : "";
}
