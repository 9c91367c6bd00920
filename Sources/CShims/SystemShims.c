#define _GNU_SOURCE
#include "SystemShims.h"
#include <sys/ioctl.h>
#include <fcntl.h>
#include <unistd.h>

int vshare_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int vshare_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = { .events = events, .data = { .u64 = data } };
    return epoll_ctl(epfd, op, fd, &ev);
}

int vshare_epoll_wait(int epfd, uint32_t *events, uint64_t *data, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) { events[i] = evs[i].events; data[i] = evs[i].data.u64; }
    return n;
}

int vshare_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int vshare_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int vshare_socket_nonblocking(int domain, int type) {
    return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

ssize_t vshare_splice(int fd_in, int fd_out, size_t len) {
    return splice(fd_in, NULL, fd_out, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

int vshare_pipe_nonblocking(int fds[2], int size) {
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    (void)fcntl(fds[1], F_SETPIPE_SZ, size);
    return fcntl(fds[1], F_GETPIPE_SZ);
}

int vshare_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int vshare_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int vshare_ioctl_int(int fd, unsigned long request, int arg) { return ioctl(fd, request, arg); }

#include <sys/signalfd.h>
#include <unistd.h>

/* SIGHUP too: the relay reloads on it; the share agent and connect end cleanly on it, as on Ctrl-C
   (a closed terminal), instead of dying with the SSH key still in the machine. */
static void termination_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

void vshare_block_termination_signals(void) {
    sigset_t set;
    termination_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int vshare_termination_signalfd(void) {
    sigset_t set;
    termination_set(&set);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int vshare_read_signalfd(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : 0;
}

#include <sys/resource.h>

long vshare_raise_open_file_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    return (long)limit.rlim_cur;
}

#include <malloc.h>

size_t vshare_malloc_free_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return info.fordblks + info.fsmblks;
}

void vshare_malloc_trim(void) { malloc_trim(0); }

// ---- TUN devices and IPv4 interface configuration ----
#include <net/if.h>
#include <linux/if_tun.h>
#include <arpa/inet.h>
#include <string.h>
#include <sched.h>
#include <errno.h>

int vshare_tun_attach(int fd, const char *name, int extra_flags, char *name_out) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (strlen(name) >= IFNAMSIZ) { errno = ENAMETOOLONG; return -1; }
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | extra_flags);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) return -1;
    memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
    name_out[IFNAMSIZ - 1] = 0;
    return 0;
}

static int ifreq_for(struct ifreq *ifr, const char *name) {
    memset(ifr, 0, sizeof *ifr);
    if (strlen(name) >= IFNAMSIZ) { errno = ENAMETOOLONG; return -1; }
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
    return 0;
}

static int set_ipv4(int sock, const char *name, unsigned long request, uint32_t address) {
    struct ifreq ifr;
    if (ifreq_for(&ifr, name) != 0) return -1;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(address);
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    return ioctl(sock, request, &ifr);
}

static int get_ipv4(int sock, const char *name, unsigned long request, uint32_t *address) {
    struct ifreq ifr;
    if (ifreq_for(&ifr, name) != 0) return -1;
    if (ioctl(sock, request, &ifr) != 0) return -1;
    struct sockaddr_in sin;
    memcpy(&sin, &ifr.ifr_addr, sizeof sin);
    *address = ntohl(sin.sin_addr.s_addr);
    return 0;
}

int vshare_if_set_address(int sock, const char *name, uint32_t a) { return set_ipv4(sock, name, SIOCSIFADDR, a); }
int vshare_if_set_peer(int sock, const char *name, uint32_t a) { return set_ipv4(sock, name, SIOCSIFDSTADDR, a); }
int vshare_if_set_netmask(int sock, const char *name, uint32_t m) { return set_ipv4(sock, name, SIOCSIFNETMASK, m); }
int vshare_if_get_address(int sock, const char *name, uint32_t *a) { return get_ipv4(sock, name, SIOCGIFADDR, a); }
int vshare_if_get_peer(int sock, const char *name, uint32_t *a) { return get_ipv4(sock, name, SIOCGIFDSTADDR, a); }
int vshare_if_get_netmask(int sock, const char *name, uint32_t *m) { return get_ipv4(sock, name, SIOCGIFNETMASK, m); }

int vshare_if_set_mtu(int sock, const char *name, int mtu) {
    struct ifreq ifr;
    if (ifreq_for(&ifr, name) != 0) return -1;
    ifr.ifr_mtu = mtu;
    return ioctl(sock, SIOCSIFMTU, &ifr);
}

int vshare_if_get_mtu(int sock, const char *name, int *mtu) {
    struct ifreq ifr;
    if (ifreq_for(&ifr, name) != 0) return -1;
    if (ioctl(sock, SIOCGIFMTU, &ifr) != 0) return -1;
    *mtu = ifr.ifr_mtu;
    return 0;
}

int vshare_if_get_flags(int sock, const char *name, int *flags) {
    struct ifreq ifr;
    if (ifreq_for(&ifr, name) != 0) return -1;
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) return -1;
    *flags = ifr.ifr_flags & 0xffff;
    return 0;
}

int vshare_if_set_up(int sock, const char *name) {
    struct ifreq ifr;
    if (ifreq_for(&ifr, name) != 0) return -1;
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

int vshare_unshare_network_namespace(void) { return unshare(CLONE_NEWNET); }

#include <sys/syscall.h>
int vshare_lower_thread_priority(int increment) {
    /* Linux: with PRIO_PROCESS a thread id names just that thread. */
    pid_t tid = (pid_t)syscall(SYS_gettid);
    return setpriority(PRIO_PROCESS, (id_t)tid, getpriority(PRIO_PROCESS, (id_t)tid) + increment);
}
