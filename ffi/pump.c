/*
 * rootlessport's TCP data path in the kernel: accept on a host listener, dial the container from
 * inside its netns, and move bytes with splice(2) through a pipe, never through JS.
 *
 * Why C: copying in JS (Bun.listen/Bun.connect) reached about half of podman's Go forwarder and
 * 70+ MiB RSS under load (every chunk becomes a Buffer for the GC); splice keeps the data in the
 * kernel, as Go's io.Copy does for TCP. Why threads: a pthread may setns(CLONE_NEWNET) on its own
 * (only user/mount namespaces need a single-threaded process), and a thread it creates is born
 * in that netns, so every upstream socket is made inside the container without touching the JS
 * thread. One acceptor thread per listener; one thread per connection, blocking in poll(2).
 *
 * Compiled at run time by bun:ffi's cc (TinyCC) with no headers, so the few libc declarations
 * and Linux constants it needs are spelled out below (same values on x86_64 and aarch64).
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
extern int pipe2(int *, int);
extern int fcntl(int, int, ...);
extern int poll(void *, unsigned long, int);
extern ssize_t splice(int, long *, int, long *, size_t, unsigned int);
extern ssize_t read(int, void *, size_t);
extern ssize_t write(int, const void *, size_t);
extern void *malloc(size_t);
extern void free(void *);
extern void *memcpy(void *, const void *, size_t);
extern int *__errno_location(void);
extern int usleep(unsigned int);
extern int kill(int, int);
extern int getpid(void);

#define SOCK_STREAM 1
#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define O_RDONLY 0
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
#define POLLIN 1
#define POLLOUT 4
#define EINTR 4
#define EAGAIN 11
#define ENOMEM 12
#define EMFILE 24
#define ENFILE 23
#define ENOBUFS 105
#define PTHREAD_CREATE_DETACHED 1
#define SIGTERM 15
#define STACK_SIZE (128 * 1024)
#define PIPE_SIZE (256 * 1024)

#define errno (*__errno_location())

struct target {
	socklen_t len;
	unsigned char addr[28]; /* sockaddr_in or sockaddr_in6 */
	int family;
};

struct acceptor {
	int listen_fd;
	int netns_fd;
	int status_fd;
	struct target t;
};

struct conn {
	int client;
	struct target *t;
};

struct pollfd {
	int fd;
	short events;
	short revents;
};

/* One direction: src -> pipe -> dst. */
struct dir {
	int src, dst, pr, pw;
	long pend; /* bytes in the pipe */
	long cap;
	int eof, shut;
};

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
	b = socket(c->t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b < 0 || connect(b, c->t->addr, c->t->len) < 0) goto out;
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
	return 0;
}

static void *acceptor_main(void *arg) {
	struct acceptor *ac = arg;
	int st = setns(ac->netns_fd, CLONE_NEWNET) < 0 ? errno : 0;
	close(ac->netns_fd);
	write(ac->status_fd, &st, sizeof st);
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
			if (e == EAGAIN || e == EINTR || e == 103 /* ECONNABORTED */ || e == 71 /* EPROTO */)
				continue;
			break; /* EINVAL/EBADF: the listener was shut down */
		}
		c = malloc(sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->client = fd;
		c->t = &ac->t;
		if (spawn_detached(conn_main, c) != 0) {
			close(fd);
			free(c);
		}
	}
	return 0; /* the acceptor struct stays: connections may still point at its target */
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
 * Starts forwarding connections accepted on listen_fd to the address in `addr` (a sockaddr of
 * `len` bytes), dialled inside the netns at `netns_path`. Returns 0, a positive errno from
 * opening or entering the netns, or -1.
 */
int rp_start(int listen_fd, const char *netns_path, const unsigned char *addr, int len, int family) {
	struct acceptor *ac;
	int sync[2], st = -1;
	if (len < 0 || len > 28) return -1;
	ac = malloc(sizeof *ac);
	if (!ac) return -1;
	ac->netns_fd = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (ac->netns_fd < 0) {
		st = errno;
		free(ac);
		return st;
	}
	ac->listen_fd = listen_fd;
	ac->t.len = len;
	ac->t.family = family;
	memcpy(ac->t.addr, addr, len);
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

/*
 * How a splice-engine forwarder stops: SIGTERM/SIGINT, or EOF on podman's ExitFD. Either way
 * _exit(0): the kernel closes every listener and connection, and no JS needs to run (nor sit in
 * memory) for it. One log line first, on stderr (the forwarder's log).
 */
extern void _exit(int);
extern void *signal(int, void *);
#define SIGINT 2

static void stop_now(const char *why, size_t len) {
	write(2, why, len);
	_exit(0);
}

static void on_signal(int sig) {
	if (sig == SIGINT) stop_now("rootlessport: stopping: SIGINT\n", 31);
	stop_now("rootlessport: stopping: SIGTERM\n", 32);
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
	stop_now("rootlessport: stopping: exit fd closed\n", 39);
	return 0;
}

/* exit_fd < 0: no ExitFD (ctrnet's -1), signals only. Returns 0, or -1 if no thread. */
int rp_stop_on(int exit_fd) {
	signal(SIGTERM, (void *)on_signal);
	signal(SIGINT, (void *)on_signal);
	if (exit_fd < 0) return 0;
	return spawn_detached(exit_watch_main, (void *)(long)exit_fd) == 0 ? 0 : -1;
}
