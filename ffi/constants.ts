// Kernel ABI numbers (x86_64 / generic Linux) that callers pass to the wrappers in libc.ts.
// Pure: no bun:ffi here, so a leaf like src/ip can use the address families without loading libc.

// open(2)
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;

// unshare(2) / setns(2)
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWNET = 0x40000000;

// mount(2) / umount2(2)
export const MS_RDONLY = 1;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;

// socket(2)
export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
/** As SO_SNDBUF/SO_RCVBUF, past the sysctl caps (CAP_NET_ADMIN). */
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_REUSEADDR = 2;
export const SO_ATTACH_FILTER = 26;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
export const MSG_TRUNC = 0x20;
export const MSG_NOSIGNAL = 0x4000;

// poll(2)
export const POLLIN = 0x1;
export const POLLOUT = 0x4;

// flock(2)
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

// signal(7)
export const SIGHUP = 1;
export const SIGKILL = 9;
export const SIGTERM = 15;
