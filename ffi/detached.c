/*
 * One netlink request sent by a short-lived process of its own, so that the caller does not wait
 * for what the kernel does after the request has taken effect.
 *
 * Why: deleting a network device (RTM_DELLINK) unlists it at once — its name, addresses, routes
 * and bridge port go and the RTM_DELLINK notification is sent — and then, still inside the
 * sender's sendmsg, waits in rcu_barrier() for an RCU grace period before freeing it: 15–30 ms
 * on this machine's kernel, most of a container's teardown. Only the sending task waits. So a
 * child that shares our memory (clone(CLONE_VM): no page tables to copy, unlike fork) sends the
 * request, and the caller goes on as soon as the notification says the device is unlisted
 * (src/netlink/unwaited.ts).
 *
 * The child: every signal blocked (the parent blocks them around clone, so it can never run a
 * handler of the JS runtime on its small stack); every fd but the netlink socket closed first (it
 * gets a copy of our fd table: no lock, pipe or stdout of ours may outlive us in it — podman
 * reads our stdout to EOF); then one sendto and exit. Raw system calls only: it shares our memory
 * but not a thread of its own in libc's eyes (no TLS, no errno). Its stack and a copy of the
 * message are one mmap'd region; the kernel zeroes `tid` there once the child is gone
 * (CLONE_CHILD_CLEARTID), and a later call reaps the child and unmaps the region. exit_signal 0:
 * no SIGCHLD for the runtime to see; should we exit first, the kernel re-parents the child and
 * its new parent reaps it as any orphan.
 *
 * Should the kernel never finish (a device whose unregistration hangs, "waiting for X to become
 * free"), the child stays in D state holding the exited ctrnet's memory and the socket, where
 * ctrnet itself used to hang; the kernel log says which device.
 *
 * libc's clone wrapper is called from the parent only; its child path touches no libc state on
 * glibc >= 2.25 (older ones rewrote the caller's cached pid there), and this object is loaded
 * through memfd_create, which needs glibc >= 2.27 anyway.
 *
 * Built by ffi/build-native (gcc, no headers, no libc at link time), so the few declarations
 * and constants it needs are spelled out below.
 */
typedef unsigned long size_t;

extern int clone(int (*)(void *), void *, int, void *, ...);
extern void *mmap(void *, size_t, int, int, int, long);
extern int munmap(void *, size_t);
extern int getrlimit(int, void *);
extern int waitpid(int, int *, int);
extern int *__errno_location(void);

#define CLONE_VM 0x00000100
#define CLONE_CHILD_CLEARTID 0x00200000
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define SIG_SETMASK 2
#define RLIMIT_NOFILE 7
#define WNOHANG 1
#define WALL 0x40000000 /* __WALL: a child whose exit signal is not SIGCHLD */
#define EAGAIN 11
#define EINVAL 22
#define PR_SET_NAME 15

#if defined(__x86_64__)
#define NR_CLOSE 3
#define NR_RT_SIGPROCMASK 14
#define NR_SENDTO 44
#define NR_PRCTL 157
#define NR_CLOSE_RANGE 436
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
					 : "=a"(ret)
					 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
					 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#define NR_CLOSE 57
#define NR_RT_SIGPROCMASK 135
#define NR_SENDTO 206
#define NR_PRCTL 167
#define NR_CLOSE_RANGE 436
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
					 : "+r"(x0)
					 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
					 : "memory");
	return x0;
}
#else
#error "detached.c: raw system calls are spelled out for x86_64 and aarch64 only"
#endif

#define REGION_SIZE (64 * 1024)
#define MSG_MAX 4096
#define MAX_CHILDREN 64

struct region {
	volatile int tid; /* the child's tid; zeroed by the kernel when it is gone */
	int fd;
	unsigned len;
	unsigned max_fd; /* the highest fd the fallback close loop tries (RLIMIT_NOFILE) */
	char msg[MSG_MAX];
	/* the child's stack: the rest of the region, growing down from its end */
};

static struct {
	struct region *r;
	int pid;
} children[MAX_CHILDREN];

static void close_all_but(int keep, unsigned max_fd) {
	long rc = 0;
	if (keep > 0) rc = sys6(NR_CLOSE_RANGE, 0, keep - 1, 0, 0, 0, 0);
	if (rc == 0) rc = sys6(NR_CLOSE_RANGE, keep + 1, ~0U, 0, 0, 0, 0);
	/* before Linux 5.9 (ENOSYS), or refused by a seccomp filter (EPERM): one by one */
	if (rc != 0)
		for (unsigned fd = 0; fd <= max_fd; fd++)
			if ((int)fd != keep) sys6(NR_CLOSE, fd, 0, 0, 0, 0, 0);
}

static int child(void *arg) {
	struct region *r = arg;
	close_all_but(r->fd, r->max_fd);
	sys6(NR_PRCTL, PR_SET_NAME, (long)"ctrnet-netlink", 0, 0, 0, 0);
	sys6(NR_SENDTO, r->fd, (long)r->msg, r->len, 0, 0, 0);
	return 0; /* libc's clone makes this the child's exit */
}

/* Reaps the children that are gone and unmaps their regions. */
static void sweep(void) {
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (!children[i].r || children[i].r->tid != 0) continue; /* none, or still running */
		int rc = waitpid(children[i].pid, 0, WNOHANG | WALL);
		/* reaped now, or by someone else; 0: exiting, not a zombie yet (next time) */
		if (rc == children[i].pid || rc < 0) {
			munmap(children[i].r, REGION_SIZE);
			children[i].r = 0;
		}
	}
}

/*
 * Sends `len` bytes of `msg` on netlink socket `fd` from a detached child; returns its pid, or
 * -errno when no child could be started (then nothing was sent: the caller sends it itself).
 */
int nl_send_detached(int fd, const void *msg, unsigned len) {
	if (len == 0 || len > MSG_MAX) return -EINVAL;
	sweep();
	int slot = -1;
	for (int i = 0; i < MAX_CHILDREN && slot < 0; i++)
		if (!children[i].r) slot = i;
	if (slot < 0) return -EAGAIN;
	struct region *r = mmap(0, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == (void *)-1) return -*__errno_location();
	r->tid = -1; /* until the kernel clears it */
	r->fd = fd;
	r->len = len;
	unsigned long lim[2] = {4096, 4096};
	getrlimit(RLIMIT_NOFILE, lim);
	r->max_fd = lim[0] > 1048576 ? 1048576 : (unsigned)lim[0];
	for (unsigned i = 0; i < len; i++) r->msg[i] = ((const char *)msg)[i];
	/* Every signal, libc's internal ones too (pthread_sigmask would leave those open): the raw call. */
	unsigned long all = ~0UL, old = 0;
	sys6(NR_RT_SIGPROCMASK, SIG_SETMASK, (long)&all, (long)&old, sizeof all, 0, 0);
	int pid = clone(child, (char *)r + REGION_SIZE, CLONE_VM | CLONE_CHILD_CLEARTID, r, (void *)0,
					(void *)0, &r->tid);
	int err = pid < 0 ? *__errno_location() : 0;
	sys6(NR_RT_SIGPROCMASK, SIG_SETMASK, (long)&old, 0, sizeof old, 0, 0);
	if (pid < 0) {
		munmap(r, REGION_SIZE);
		return -err;
	}
	children[slot].r = r;
	children[slot].pid = pid;
	return pid;
}
