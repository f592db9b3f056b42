/*
 * rootlessport's TCP data path in the kernel: accept on a host listener, dial the container from
 * inside its netns, and move bytes with splice(2) through a pipe, never through JS.
 *
 * Why C: copying in JS (Bun.listen/Bun.connect) reached about half of podman's Go forwarder and
 * 70+ MiB RSS under load (every chunk becomes a Buffer for the GC); splice keeps the data in the
 * kernel, as Go's io.Copy does for TCP. Why threads: a pthread may setns(CLONE_NEWNET) on its own
 * (only user/mount namespaces need a single-threaded process), and a thread it creates is born
 * in that netns, so every upstream socket is made inside the container without touching the JS
 * thread. One acceptor thread per listener; one thread per connection, blocking in poll(2), at
 * most `conns_max` of them (beyond that a new connection is reset at once: fds and threads are
 * finite, and UDP flows and the other ports must keep theirs).
 *
 * Also here, because it must answer while the JS thread may be idle: the address the container
 * is dialled at (shared with the JS data paths) and podman's rootless-CNI reload socket, which
 * switches that address for new connections.
 *
 * Built by ffi/build-native (gcc, no headers, no libc at link time), so the few libc
 * declarations and Linux constants it needs are spelled out below (same values on x86_64 and
 * aarch64).
 */
typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned int socklen_t;
typedef unsigned long pthread_t;

extern int pthread_create(pthread_t *, const void *, void *(*)(void *), void *);
extern int pthread_attr_init(void *);
extern int pthread_attr_setstacksize(void *, size_t);
extern int pthread_attr_setdetachstate(void *, int);
extern int pthread_attr_destroy(void *);
extern int accept4(int, void *, socklen_t *, int);
extern int socket(int, int, int);
extern int connect(int, const void *, socklen_t);
extern int setsockopt(int, int, int, const void *, socklen_t);
extern int shutdown(int, int);
extern int close(int);
extern int setns(int, int);
extern int bind(int, const void *, socklen_t);
extern int listen(int, int);
extern int open(const char *, int, ...);
extern int unlinkat(int, const char *, int);
extern int pipe2(int *, int);
extern int fcntl(int, int, ...);
extern int poll(void *, unsigned long, int);
extern ssize_t splice(int, long *, int, long *, size_t, unsigned int);
extern ssize_t read(int, void *, size_t);
extern ssize_t write(int, const void *, size_t);
extern ssize_t recv(int, void *, size_t, int);
extern ssize_t send(int, const void *, size_t, int);
extern int inet_pton(int, const char *, void *);
extern void *malloc(size_t);
extern void free(void *);
extern void *memcpy(void *, const void *, size_t);
extern int *__errno_location(void);
extern int usleep(unsigned int);
extern int sched_yield(void);
extern long time(long *);
extern void _exit(int);
extern void *signal(int, void *);

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_SEQPACKET 5
#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define SO_LINGER 13
#define SO_RCVTIMEO 20
#define O_RDONLY 0
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_PATH 010000000
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC 02000000
#define O_NONBLOCK 04000
#define O_CLOEXEC 02000000
#define F_GETFL 3
#define F_SETFL 4
#define F_SETPIPE_SZ 1031
#define CLONE_NEWNET 0x40000000
#define SHUT_WR 1
#define SHUT_RDWR 2
#define IPPROTO_TCP 6
#define TCP_NODELAY 1
#define SPLICE_F_MOVE 1
#define SPLICE_F_NONBLOCK 2
#define MSG_NOSIGNAL 0x4000
#define POLLIN 1
#define POLLOUT 4
#define ENOENT 2
#define EINTR 4
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENAMETOOLONG 36
#define EPROTO 71
#define ECONNABORTED 103
#define ENOBUFS 105
#define PTHREAD_CREATE_DETACHED 1
#define SIGINT 2
#define SIGTERM 15
#define STACK_SIZE (128 * 1024)
#define PIPE_SIZE (256 * 1024)
/* A note (a refusal, a reload) at most this often, and never more than LOG_BUDGET bytes. */
#define NOTE_EVERY_S 60
#define LOG_BUDGET (64 * 1024)

#define errno (*__errno_location())

struct pollfd {
	int fd;
	short events;
	short revents;
};

struct linger {
	int onoff;
	int seconds;
};

struct timeval {
	long sec;
	long usec;
};

/* ---- small string helpers (no libc headers, no printf) ---- */

static size_t slen(const char *s) {
	size_t n = 0;
	while (s[n]) n++;
	return n;
}

/* Appends `s` to the NUL-terminated `dst` of capacity `cap`, truncating. */
static void cat(char *dst, size_t cap, const char *s) {
	size_t n = slen(dst);
	while (*s && n + 1 < cap) dst[n++] = *s++;
	dst[n] = 0;
}

static void cat_num(char *dst, size_t cap, long v) {
	char b[24];
	int i = 23;
	b[i] = 0;
	if (v == 0) b[--i] = '0';
	while (v > 0 && i > 0) {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	}
	cat(dst, cap, b + i);
}

/* ---- the forwarder's log (stderr): bounded in rate and in total ---- */

static long log_used;

static void log_line(const char *line) {
	size_t n = slen(line);
	if (__atomic_add_fetch(&log_used, (long)n, __ATOMIC_RELAXED) > LOG_BUDGET) return;
	(void)!write(2, line, n);
}

/* ---- the container's address: set at start, switched by a reload ---- */

struct child {
	int family;
	unsigned char ip[16];
	char text[64];
};

static struct child child;
static int child_gen;
static int child_lock;

static void lock(int *l) {
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) sched_yield();
}

static void unlock(int *l) {
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/*
 * Parses an IP literal the container can be dialled at: 0, 1 when it is not an IP, 2 when it is
 * a loopback or unspecified address (the container's own localhost must stay private,
 * CVE-2021-20199, and the container must see a network peer).
 */
static int parse_child(const char *text, struct child *out) {
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	size_t n = slen(text);
	int i, zero = 1;
	if (n == 0 || n >= sizeof out->text) return 1;
	if (inet_pton(AF_INET, text, out->ip) == 1) {
		out->family = AF_INET;
		if (out->ip[0] == 127 || (out->ip[0] | out->ip[1] | out->ip[2] | out->ip[3]) == 0) return 2;
	} else if (inet_pton(AF_INET6, text, out->ip) == 1) {
		out->family = AF_INET6;
		for (i = 0; i < 15; i++) zero &= out->ip[i] == 0;
		if (zero && out->ip[15] <= 1) return 2; /* :: and ::1 */
		for (i = 0; i < 12; i++)
			if (out->ip[i] != mapped[i]) break;
		if (i == 12 && (out->ip[12] == 127 || (out->ip[12] | out->ip[13] | out->ip[14] | out->ip[15]) == 0))
			return 2;
	} else {
		return 1;
	}
	memcpy(out->text, text, n + 1);
	return 0;
}

/* Sets the address new connections and flows dial. Returns parse_child's verdict. */
int rp_child_set(const char *text) {
	struct child c;
	int rc = parse_child(text, &c);
	if (rc) return rc;
	lock(&child_lock);
	child = c;
	__atomic_add_fetch(&child_gen, 1, __ATOMIC_RELEASE);
	unlock(&child_lock);
	return 0;
}

/* Bumped by every switch: the JS data paths compare it to notice one cheaply. */
int rp_child_gen(void) {
	return __atomic_load_n(&child_gen, __ATOMIC_ACQUIRE);
}

/* The current address as text into buf (NUL-terminated); returns its generation. */
int rp_child_get(char *buf, int len) {
	int gen;
	lock(&child_lock);
	gen = child_gen;
	if (len > 0) {
		size_t n = slen(child.text);
		if (n >= (size_t)len) n = len - 1;
		memcpy(buf, child.text, n);
		buf[n] = 0;
	}
	unlock(&child_lock);
	return gen;
}

/* The current address and `port` as a sockaddr_in / sockaddr_in6 in sa (28 bytes). */
static socklen_t child_sockaddr(unsigned char *sa, int port, int *family) {
	unsigned short fam;
	int i;
	for (i = 0; i < 28; i++) sa[i] = 0;
	lock(&child_lock);
	fam = (unsigned short)child.family;
	memcpy(sa, &fam, 2);
	sa[2] = (unsigned char)(port >> 8);
	sa[3] = (unsigned char)port;
	if (fam == AF_INET) memcpy(sa + 4, child.ip, 4);
	else memcpy(sa + 8, child.ip, 16);
	unlock(&child_lock);
	*family = fam;
	return fam == AF_INET ? 16 : 28;
}

/* ---- TCP: acceptors and connections ---- */

struct acceptor {
	int listen_fd;
	int netns_fd;
	int status_fd;
	int port;
};

struct conn {
	int client;
	int family;
	socklen_t len;
	unsigned char addr[28];
};

/* One direction: src -> pipe -> dst. */
struct dir {
	int src, dst, pr, pw;
	long pend; /* bytes in the pipe */
	long cap;
	int eof, shut;
};

static int conns;
static int conns_max = 1024;
static long refused;
static long refused_noted_at;

/* Sets the most connections open at once (each costs a thread and six fds). */
void rp_limits(int max_conns) {
	if (max_conns > 0) conns_max = max_conns;
}

/* The number of connections open now (for the tests and the debug log). */
int rp_conns(void) {
	return __atomic_load_n(&conns, __ATOMIC_RELAXED);
}

/* Resets a connection we will not serve, and says so in the log now and then. */
static void refuse(int fd) {
	struct linger l = {1, 0};
	long now = time(0), last = __atomic_load_n(&refused_noted_at, __ATOMIC_RELAXED);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
	__atomic_add_fetch(&refused, 1, __ATOMIC_RELAXED);
	if (now - last >= NOTE_EVERY_S &&
	    __atomic_compare_exchange_n(&refused_noted_at, &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		char line[160] = "rootlessport: tcp: connection limit (";
		cat_num(line, sizeof line, conns_max);
		cat(line, sizeof line, " open) reached; refused ");
		cat_num(line, sizeof line, __atomic_exchange_n(&refused, 0, __ATOMIC_RELAXED));
		cat(line, sizeof line, " connection(s) since the last note\n");
		log_line(line);
	}
}

static int spawn_detached(void *(*fn)(void *), void *arg) {
	long attr[8]; /* pthread_attr_t is 56 bytes on x86_64/aarch64 glibc */
	pthread_t t;
	int rc;
	pthread_attr_init(attr);
	pthread_attr_setstacksize(attr, STACK_SIZE);
	pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, attr, fn, arg);
	pthread_attr_destroy(attr);
	return rc;
}

/* Moves what it can without blocking; -1 on a real error. */
static int step(struct dir *d) {
	for (;;) {
		int progressed = 0;
		if (!d->eof && d->pend == 0) {
			ssize_t n = splice(d->src, 0, d->pw, 0, d->cap, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->pend += n;
				progressed = 1;
			} else if (n == 0) {
				d->eof = 1;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (d->pend > 0) {
			ssize_t m = splice(d->pr, 0, d->dst, 0, d->pend, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (m > 0) {
				d->pend -= m;
				progressed = 1;
			} else if (m < 0 && errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		/* Half-close: the source said FIN and everything before it was written. */
		if (d->eof && d->pend == 0 && !d->shut) {
			shutdown(d->dst, SHUT_WR);
			d->shut = 1;
		}
		if (!progressed) return 0;
	}
}

/* What this direction waits for next; returns the number of pollfds added. */
static int want(struct dir *d, struct pollfd *p) {
	if (d->shut) return 0;
	if (d->pend > 0) {
		p->fd = d->dst;
		p->events = POLLOUT;
	} else {
		p->fd = d->src;
		p->events = POLLIN;
	}
	p->revents = 0;
	return 1;
}

static int make_pipe(int *p) {
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
	fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE); /* best effort; the default 64 KiB works too */
	return 0;
}

static void *conn_main(void *arg) {
	struct conn *c = arg;
	int a = c->client, b = -1, one = 1;
	int pab[2] = {-1, -1}, pba[2] = {-1, -1};
	struct dir ab, ba;
	struct pollfd p[2];

	/* This thread was born in the container's netns: the socket is made there. */
	b = socket(c->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b < 0 || connect(b, c->addr, c->len) < 0) goto out;
	fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (make_pipe(pab) < 0 || make_pipe(pba) < 0) goto out;

	ab.src = a; ab.dst = b; ab.pr = pab[0]; ab.pw = pab[1];
	ba.src = b; ba.dst = a; ba.pr = pba[0]; ba.pw = pba[1];
	ab.pend = ba.pend = 0;
	ab.cap = ba.cap = PIPE_SIZE;
	ab.eof = ba.eof = ab.shut = ba.shut = 0;

	for (;;) {
		int n = 0;
		if (step(&ab) < 0 || step(&ba) < 0) break;
		if (ab.shut && ba.shut) break;
		n += want(&ab, &p[n]);
		n += want(&ba, &p[n]);
		if (poll(p, n, -1) < 0 && errno != EINTR) break;
	}
out:
	if (pab[0] >= 0) close(pab[0]);
	if (pab[1] >= 0) close(pab[1]);
	if (pba[0] >= 0) close(pba[0]);
	if (pba[1] >= 0) close(pba[1]);
	if (b >= 0) close(b);
	close(a);
	free(c);
	__atomic_sub_fetch(&conns, 1, __ATOMIC_RELAXED);
	return 0;
}

static void *acceptor_main(void *arg) {
	struct acceptor *ac = arg;
	int st = setns(ac->netns_fd, CLONE_NEWNET) < 0 ? errno : 0;
	close(ac->netns_fd);
	(void)!write(ac->status_fd, &st, sizeof st);
	if (st) return 0;
	for (;;) {
		struct conn *c;
		int fd = accept4(ac->listen_fd, 0, 0, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			int e = errno;
			if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
				usleep(10000);
				continue;
			}
			if (e == EAGAIN || e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
			break; /* EINVAL/EBADF: the listener was shut down */
		}
		if (__atomic_add_fetch(&conns, 1, __ATOMIC_RELAXED) > conns_max) {
			__atomic_sub_fetch(&conns, 1, __ATOMIC_RELAXED);
			refuse(fd);
			continue;
		}
		c = malloc(sizeof *c);
		if (!c) {
			__atomic_sub_fetch(&conns, 1, __ATOMIC_RELAXED);
			refuse(fd);
			continue;
		}
		c->client = fd;
		/* The address as of now: a reload switches it for the connections accepted after it. */
		c->len = child_sockaddr(c->addr, ac->port, &c->family);
		if (spawn_detached(conn_main, c) != 0) {
			free(c);
			__atomic_sub_fetch(&conns, 1, __ATOMIC_RELAXED);
			refuse(fd);
		}
	}
	free(ac);
	return 0;
}

/*
 * A listening TCP socket on the sockaddr in `addr` (SO_REUSEADDR, as Go's net.Listen), made by
 * the calling (JS) thread, so in its netns: the host's. Returns the fd or -errno.
 */
int rp_listen(const unsigned char *addr, int len, int family, int backlog) {
	int one = 1, e;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, addr, len) < 0 || listen(fd, backlog) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Stops a listener: shutdown wakes its acceptor thread out of accept(2), then close. */
void rp_close(int fd) {
	shutdown(fd, SHUT_RDWR);
	close(fd);
}

/*
 * Starts forwarding connections accepted on listen_fd to the container's address (rp_child_set)
 * and `port`, dialled inside the netns at `netns_path`. Returns 0, a positive errno from opening
 * or entering the netns, or -1.
 */
int rp_start(int listen_fd, const char *netns_path, int port) {
	struct acceptor *ac;
	int sync[2], st = -1;
	ac = malloc(sizeof *ac);
	if (!ac) return -1;
	ac->netns_fd = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (ac->netns_fd < 0) {
		st = errno;
		free(ac);
		return st;
	}
	ac->listen_fd = listen_fd;
	ac->port = port;
	if (pipe2(sync, O_CLOEXEC) < 0) {
		close(ac->netns_fd);
		free(ac);
		return -1;
	}
	ac->status_fd = sync[1];
	if (spawn_detached(acceptor_main, ac) != 0) {
		close(ac->netns_fd);
		free(ac);
	} else if (read(sync[0], &st, sizeof st) != sizeof st) {
		st = -1;
	}
	close(sync[0]);
	close(sync[1]);
	return st;
}

/* ---- podman's rootless-CNI reload socket: TmpDir/rp/<ContainerID> ---- */

/*
 * Protocol (podman 4 cmd/rootlessport serve/handler, libpod reloadRootlessRLKPortMapping): a
 * SOCK_SEQPACKET unix socket; a client sends one packet holding a JSON string, the container's
 * new IP, and reads the reply until EOF: "OK", or the error's text. The error texts follow
 * podman's (its Go JSON decoder's for what is not a JSON string). Unlike podman, a refused
 * address changes nothing: the forwarder keeps dialling the previous one.
 */

static int reload_dir = -1;
static char reload_name[128];
static long reload_noted_at;

static void quote(char *dst, size_t cap, const char *s, size_t n) {
	char b[2] = {0, 0};
	size_t i;
	cat(dst, cap, "\"");
	for (i = 0; i < n; i++) {
		b[0] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		cat(dst, cap, b);
	}
	cat(dst, cap, "\"");
}

/* Handles one request in buf[0..n); the reply goes to out (NUL-terminated). */
static void reload_request(const char *buf, long n, char *out, size_t cap) {
	const char *kind = 0;
	char ip[64], old[64];
	long i = 0, start;
	int bad = 0, rc;
	out[0] = 0;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r')) i++;
	if (i >= n) {
		cat(out, cap, "rootless port failed to decode ports: EOF");
		return;
	}
	if (buf[i] == 'n' && n - i >= 4 && buf[i + 1] == 'u' && buf[i + 2] == 'l' && buf[i + 3] == 'l') {
		/* Go decodes null into a string as no change: "" — not an address. */
		cat(out, cap, "rootless port failed to add port: invalid ChildIP: \"\"");
		return;
	}
	if (buf[i] != '"') {
		char c = buf[i];
		if (c == '{') kind = "object";
		else if (c == '[') kind = "array";
		else if (c == '-' || (c >= '0' && c <= '9')) kind = "number";
		else if (c == 't' || c == 'f') kind = "bool";
		cat(out, cap, "rootless port failed to decode ports: ");
		if (kind) {
			cat(out, cap, "json: cannot unmarshal ");
			cat(out, cap, kind);
			cat(out, cap, " into Go value of type string");
		} else {
			char b[2] = {(c >= 0x20 && c < 0x7f) ? c : '?', 0};
			cat(out, cap, "invalid character '");
			cat(out, cap, b);
			cat(out, cap, "' looking for beginning of value");
		}
		return;
	}
	start = ++i;
	while (i < n && buf[i] != '"') {
		/* An IP literal needs no escapes: a string with one is not an address. */
		if (buf[i] == '\\' || (unsigned char)buf[i] < 0x20) bad = 1;
		i++;
	}
	if (i >= n) {
		cat(out, cap, "rootless port failed to decode ports: unexpected EOF");
		return;
	}
	if (bad || i - start >= (long)sizeof ip) {
		rc = 1;
	} else {
		memcpy(ip, buf + start, i - start);
		ip[i - start] = 0;
		rp_child_get(old, sizeof old);
		rc = rp_child_set(ip);
	}
	if (rc) {
		cat(out, cap, "rootless port failed to add port: invalid ChildIP: ");
		quote(out, cap, buf + start, i - start < 64 ? i - start : 64);
		if (rc == 2) cat(out, cap, " (a loopback or unspecified address)");
		return;
	}
	cat(out, cap, "OK");
	{
		long now = time(0), last = __atomic_load_n(&reload_noted_at, __ATOMIC_RELAXED);
		if (now != last) {
			char line[200] = "rootlessport: reload: child IP ";
			__atomic_store_n(&reload_noted_at, now, __ATOMIC_RELAXED);
			cat(line, sizeof line, old);
			cat(line, sizeof line, " -> ");
			cat(line, sizeof line, ip);
			cat(line, sizeof line, "\n");
			log_line(line);
		}
	}
}

static void *reload_main(void *arg) {
	int s = (int)(long)arg;
	char buf[512], reply[256];
	for (;;) {
		struct timeval tv = {2, 0};
		ssize_t n;
		int c = accept4(s, 0, 0, SOCK_CLOEXEC);
		if (c < 0) {
			int e = errno;
			if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
				usleep(10000);
				continue;
			}
			if (e == EBADF || e == EINVAL) break;
			continue;
		}
		/* A client that connects and says nothing must not hold the socket. */
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		n = recv(c, buf, sizeof buf, 0);
		reload_request(buf, n < 0 ? 0 : n, reply, sizeof reply);
		(void)!send(c, reply, slen(reply), MSG_NOSIGNAL);
		close(c);
	}
	return 0;
}

/*
 * Serves the reload socket `name` in directory `dir` (the caller made `dir` and checked it is
 * private). Bound through /proc/self/fd/<dir fd>/<name>, as podman does, so a long TmpDir does
 * not meet sun_path's 108 bytes. Returns 0 or an errno.
 */
int rp_reload_start(const char *dir, const char *name) {
	struct {
		unsigned short family;
		char path[108];
	} sa;
	int dfd, s, e;
	if (slen(name) >= sizeof reload_name) return ENAMETOOLONG;
	dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) return errno;
	/* A socket left by an earlier forwarder of this container would make bind fail. */
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT) {
		e = errno;
		close(dfd);
		return e;
	}
	sa.family = AF_UNIX;
	sa.path[0] = 0;
	cat(sa.path, sizeof sa.path, "/proc/self/fd/");
	cat_num(sa.path, sizeof sa.path, dfd);
	cat(sa.path, sizeof sa.path, "/");
	if (slen(sa.path) + slen(name) >= sizeof sa.path) {
		close(dfd);
		return ENAMETOOLONG;
	}
	cat(sa.path, sizeof sa.path, name);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0) {
		e = errno;
		close(dfd);
		return e;
	}
	if (bind(s, &sa, sizeof sa) < 0 || listen(s, 16) < 0) {
		e = errno;
		close(s);
		close(dfd);
		return e;
	}
	reload_name[0] = 0;
	cat(reload_name, sizeof reload_name, name);
	reload_dir = dfd;
	if (spawn_detached(reload_main, (void *)(long)s) != 0) {
		unlinkat(dfd, name, 0);
		close(s);
		close(dfd);
		reload_dir = -1;
		return EAGAIN;
	}
	return 0;
}

/* Removes the reload socket's file (at exit). Async-signal-safe. */
void rp_reload_stop(void) {
	if (reload_dir >= 0) unlinkat(reload_dir, reload_name, 0);
}

/* ---- stopping ---- */

/*
 * How a splice-engine forwarder stops: SIGTERM/SIGINT, or EOF on podman's ExitFD. Either way
 * _exit(0): the kernel closes every listener and connection, and no JS needs to run (nor sit in
 * memory) for it. The reload socket's file goes first; one log line, on stderr (the forwarder's
 * log).
 */
static void stop_now(const char *why) {
	rp_reload_stop();
	(void)!write(2, why, slen(why));
	_exit(0);
}

static void on_signal(int sig) {
	if (sig == SIGINT) stop_now("rootlessport: stopping: SIGINT\n");
	stop_now("rootlessport: stopping: SIGTERM\n");
}

static void *exit_watch_main(void *arg) {
	int fd = (int)(long)arg;
	char buf[64];
	struct pollfd p;
	for (;;) {
		ssize_t n;
		/* The fd may be non-blocking (inherited so, or set by the runtime): wait, then read. */
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, -1) < 0 && errno != EINTR) break;
		n = read(fd, buf, sizeof buf);
		if (n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN))) continue;
		break;
	}
	stop_now("rootlessport: stopping: exit fd closed\n");
	return 0;
}

/* exit_fd < 0: no ExitFD (ctrnet's -1), signals only. Returns 0, or -1 if no thread. */
int rp_stop_on(int exit_fd) {
	signal(SIGTERM, (void *)on_signal);
	signal(SIGINT, (void *)on_signal);
	if (exit_fd < 0) return 0;
	return spawn_detached(exit_watch_main, (void *)(long)exit_fd) == 0 ? 0 : -1;
}
