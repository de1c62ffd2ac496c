#ifndef TOKENBRIDGE_CSYSTEM_H
#define TOKENBRIDGE_CSYSTEM_H

// Linux headers that Glibc's Swift overlay does not export.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int tb_errno(void) { return errno; }

// epoll: `struct epoll_event` is packed on x86_64, so Swift never indexes it itself.
static const uint32_t tb_EPOLLIN = EPOLLIN;
static const uint32_t tb_EPOLLOUT = EPOLLOUT;
static const uint32_t tb_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t tb_EPOLLHUP = EPOLLHUP;
static const uint32_t tb_EPOLLERR = EPOLLERR;
static const uint32_t tb_EPOLLET = EPOLLET;

static inline struct epoll_event *tb_epoll_events_allocate(int count) {
    return (struct epoll_event *)calloc((size_t)count, sizeof(struct epoll_event));
}

static inline uint32_t tb_epoll_event_flags(const struct epoll_event *events, int index) {
    return events[index].events;
}

static inline uint64_t tb_epoll_event_data(const struct epoll_event *events, int index) {
    return events[index].data.u64;
}

static inline int tb_epoll_ctl(int epfd, int op, int fd, uint32_t flags, uint64_t data) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = flags;
    event.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &event);
}

static inline int tb_eventfd_nonblocking(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

// Sockets: always non-blocking and close-on-exec.
// accept4 is a GNU extension that the headers hide without _GNU_SOURCE; the symbol is in glibc.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

static inline int tb_socket_stream(int family) {
    return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static inline int tb_accept(int fd, struct sockaddr_storage *address, socklen_t *length) {
    return accept4(fd, (struct sockaddr *)address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static inline int tb_setsockopt_int(int fd, int level, int option, int value) {
    return setsockopt(fd, level, option, &value, sizeof(value));
}

static inline int tb_getsockopt_int(int fd, int level, int option, int *value) {
    socklen_t length = sizeof(*value);
    return getsockopt(fd, level, option, value, &length);
}

/// writev that never raises SIGPIPE.
static inline ssize_t tb_sendmsg_iov(int fd, struct iovec *iov, int count) {
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_iov = iov;
    message.msg_iovlen = (size_t)count;
    return sendmsg(fd, &message, MSG_NOSIGNAL);
}

static inline ssize_t tb_send(int fd, const void *bytes, size_t count) {
    return send(fd, bytes, count, MSG_NOSIGNAL);
}

#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);
static inline void tb_name_current_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

static inline void tb_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

static inline int tb_raise_open_file_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    return (int)limit.rlim_cur;
}

#endif
