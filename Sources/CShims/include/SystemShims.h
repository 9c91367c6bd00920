// Linux calls that Swift's Glibc module does not export, or that are variadic.
#ifndef VSHARE_SYSTEM_SHIMS_H
#define VSHARE_SYSTEM_SHIMS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <pthread.h>

int vshare_epoll_create(void);
int vshare_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// Waits for events; fills parallel arrays of event masks and user data. Returns count or -1.
int vshare_epoll_wait(int epfd, uint32_t *events, uint64_t *data, int max, int timeout_ms);
int vshare_eventfd(void);
int vshare_accept4(int fd, struct sockaddr *addr, socklen_t *len);
int vshare_socket_nonblocking(int domain, int type);
int vshare_ioctl_ptr(int fd, unsigned long request, void *arg);
int vshare_ioctl_int(int fd, unsigned long request, int arg);

/// epoll flag values, so Swift needs no enum casts.
static const uint32_t VSHARE_EPOLLIN = EPOLLIN;
static const uint32_t VSHARE_EPOLLOUT = EPOLLOUT;
static const uint32_t VSHARE_EPOLLERR = EPOLLERR;
static const uint32_t VSHARE_EPOLLHUP = EPOLLHUP;
static const uint32_t VSHARE_EPOLLRDHUP = EPOLLRDHUP;
#endif

// Termination signals (SIGINT, SIGTERM) delivered through a signalfd; SIGPIPE ignored.
void vshare_block_termination_signals(void);
int vshare_termination_signalfd(void);
/// Reads one signal; returns its number, or 0 when none was pending.
int vshare_read_signalfd(int fd);

/// splice(2) without copying to user space: moves up to `len` bytes between a socket and a pipe,
/// non-blocking (SPLICE_F_MOVE | SPLICE_F_NONBLOCK). Returns bytes moved, 0 at EOF, -1 with errno.
ssize_t vshare_splice(int fd_in, int fd_out, size_t len);
/// A non-blocking, close-on-exec pipe of about `size` bytes (F_SETPIPE_SZ; the default size when the
/// kernel refuses). Fills fds[0] (read end), fds[1] (write end) and returns the pipe's capacity in
/// bytes, or -1 with errno.
int vshare_pipe_nonblocking(int fds[2], int size);

/// A blocking pipe whose ends are close-on-exec from the start (pipe2 O_CLOEXEC): with pipe() and
/// a later fcntl, a child spawned by another thread in between would inherit them.
int vshare_pipe_cloexec(int fds[2]);

/// Lowers the calling thread's scheduling priority (nice) by `increment`; 0 on success.
int vshare_lower_thread_priority(int increment);

/// Raises the soft limit on open files to the hard limit; returns the new soft limit.
long vshare_raise_open_file_limit(void);

/// Bytes malloc holds free in its arenas (mallinfo2's fordblks + fsmblks).
size_t vshare_malloc_free_bytes(void);
/// Returns free memory at the top of the heaps and in whole free pages to the system (malloc_trim(0)).
void vshare_malloc_trim(void);

// ---- TUN devices and IPv4 interface configuration (TunDevice module) ----
// Addresses cross this boundary as uint32_t in host byte order; names as C strings of at
// most IFNAMSIZ-1 bytes. Every call returns 0 (or an fd) on success and -1 with errno set.

/// Attaches an open /dev/net/tun fd to a new TUN interface (IFF_TUN|IFF_NO_PI, plus
/// `extra_flags`, e.g. IFF_VNET_HDR later). `name` may hold a "%d" template; the kernel's
/// chosen name is copied to `name_out` (IFNAMSIZ bytes).
int vshare_tun_attach(int fd, const char *name, int extra_flags, char *name_out);
/// SIOCSIFADDR / SIOCSIFDSTADDR / SIOCSIFNETMASK through `sock` (an AF_INET datagram socket).
int vshare_if_set_address(int sock, const char *name, uint32_t address);
int vshare_if_set_peer(int sock, const char *name, uint32_t address);
int vshare_if_set_netmask(int sock, const char *name, uint32_t mask);
int vshare_if_set_mtu(int sock, const char *name, int mtu);
/// Sets IFF_UP|IFF_RUNNING, keeping the other flags.
int vshare_if_set_up(int sock, const char *name);
/// Readers for tests and diagnostics (SIOCGIF*).
int vshare_if_get_address(int sock, const char *name, uint32_t *address);
int vshare_if_get_peer(int sock, const char *name, uint32_t *address);
int vshare_if_get_netmask(int sock, const char *name, uint32_t *mask);
int vshare_if_get_mtu(int sock, const char *name, int *mtu);
int vshare_if_get_flags(int sock, const char *name, int *flags);

/// Interface flag values, so Swift needs no enum casts.
static const int VSHARE_IFF_UP = 0x1;
static const int VSHARE_IFF_RUNNING = 0x40;
static const int VSHARE_IFF_POINTOPOINT = 0x10;

/// Moves the calling thread (only) into a new, empty network namespace (unshare(CLONE_NEWNET)).
/// Tests use it on a dedicated thread; it ends with the thread's last reference.
int vshare_unshare_network_namespace(void);
