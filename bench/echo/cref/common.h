// common.h is what the C reference servers (epoll_echo.c, uring_echo.c) share: fatal
// errors, the listening socket, process set-up and the runner's "mark" lines. Each
// program defines PROG (its name, for messages) before including it. Package cref
// embeds it beside the programs and writes it next to them to compile.

#ifndef CREF_COMMON_H
#define CREF_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

// die reports a failed call and exits with status 1.
static void die(const char *what, int err) {
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(err));
	exit(1);
}

// listen_on opens the listening socket on a numeric IPv4 host:port, with the extra
// socket(2) type flags (SOCK_NONBLOCK or 0), and returns it; *bound gets the address
// it is bound to.
static int listen_on(const char *addr, int flags, char *bound, size_t boundlen) {
	char host[64];
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (colon && (size_t)(colon - addr) < sizeof host) {
		memcpy(host, addr, colon - addr);
		host[colon - addr] = 0;
		sa.sin_port = htons(atoi(colon + 1));
	}
	if (!colon || (size_t)(colon - addr) >= sizeof host || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, PROG ": -a %s: want a numeric IPv4 host:port\n", addr);
		exit(1);
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0), one = 1;
	if (fd < 0)
		die("socket", errno);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		die("setsockopt", errno);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind", errno);
	if (listen(fd, 4096) < 0)
		die("listen", errno);
	socklen_t len = sizeof sa;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		die("getsockname", errno);
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
	snprintf(bound, boundlen, "%s:%u", ip, ntohs(sa.sin_port));
	return fd;
}

// process_setup raises the descriptor limit to its maximum, ignores SIGPIPE, and
// returns a non-blocking signalfd for SIGTERM and SIGINT (which it blocks).
static int process_setup(void) {
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd", errno);
	return sfd;
}

// The runner's stdin, up to its last complete line.
static char inbuf[256];
static size_t inlen;

// take_input takes n more bytes read into inbuf + inlen and answers every complete
// "mark" line with "mark 0 <enters>" (0: the allocation count, not tracked here).
static void take_input(size_t n, unsigned long long enters) {
	inlen += n;
	char *nl;
	while ((nl = memchr(inbuf, '\n', inlen))) {
		size_t k = nl - inbuf;
		if (k == 4 && memcmp(inbuf, "mark", 4) == 0) {
			printf("mark 0 %llu\n", enters);
			fflush(stdout);
		}
		inlen -= k + 1;
		memmove(inbuf, nl + 1, inlen);
	}
	if (inlen == sizeof inbuf)
		inlen = 0; // a line this long is none of the runner's
}

#endif
