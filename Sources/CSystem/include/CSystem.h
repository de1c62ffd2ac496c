#ifndef TOKENBRIDGE_CSYSTEM_H
#define TOKENBRIDGE_CSYSTEM_H

// Linux headers that Glibc's Swift overlay does not export.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <errno.h>

static inline int tb_errno(void) { return errno; }

#endif
