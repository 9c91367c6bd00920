// Linux calls that Swift's Glibc module does not export, or that are variadic.
#ifndef VSHARE_SYSTEM_SHIMS_H
#define VSHARE_SYSTEM_SHIMS_H
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

/// Raises the soft limit on open files to the hard limit; returns the new soft limit.
long vshare_raise_open_file_limit(void);
