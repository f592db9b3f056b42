// A "container" service: listens on 0.0.0.0:PORT of its netns and tells each client the peer
// address it sees. Run inside `unshare -Urn` by the rootless tests.
const port = Number(process.argv[2] ?? 8000);
Bun.listen({
	hostname: "0.0.0.0",
	port,
	socket: {
		open(s) {
			s.end(`peer ${s.remoteAddress}\n`);
		},
		data() {},
	},
});
