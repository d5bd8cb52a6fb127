//go:build ignore

// epoll_echo is the c-epoll contender of the echo benchmark (bench/echo): a
// minimal TCP echo server in C on epoll, the reference point the Go servers on
// epoll are measured against. Package cref embeds this file and compiles it
// with gcc at run time; the go:build line above only keeps the Go tool from
// taking it for cgo source of that package.
//
//	epoll_echo [-a host:port]
//
// Design. One thread, one epoll instance, non-blocking sockets, all
// level-triggered: a readiness report costs one read(2) into a 64 KiB buffer
// shared by all connections and one write(2) of what it read, and no read that
// only returns EAGAIN (edge-triggered would need one to know the socket is
// drained). What the socket does not take is kept in the connection's own
// output buffer (allocated on first use, 64 KiB) and the connection then waits
// for EPOLLOUT instead of EPOLLIN: it reads no more from a peer that does not
// read its echo, so the kept output never exceeds one read. Once the output is
// gone it waits for EPOLLIN again. EOF or an error closes the connection; a
// peer that shuts down its side after sending gets all of its echo first,
// since EOF is only read once the output is gone. The listener accepts until
// EAGAIN on each report.
//
// Runner protocol (the same as bench/echo/server's): "ready <addr>" on stdout
// once it listens; each "mark" line on stdin is answered "mark 0 <enters>",
// 0 for the allocation count it does not track (the runner then shows n/a)
// and the epoll_wait calls so far; SIGTERM or SIGINT end it with
// "stats <json>" on stdout and exit status 0.

#define _GNU_SOURCE
#define PROG "epoll_echo"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define BUFSIZE (64 << 10)

// A connection, kept in conns[] at its descriptor: out[off, len) is echo the
// socket has not taken yet.
struct conn {
	bool open;
	uint32_t off, len;
	char *out;
};

static int ep, lfd, sfd;
static struct conn *conns;
static int nconns;
static char buf[BUFSIZE];
static bool stopping;

static struct {
	unsigned long long accepted, closed, bytes_in, bytes_out, reads, writes, enters,
		short_writes, accept_errors;
} st;

static struct conn *conn_at(int fd) {
	if (fd >= nconns) {
		int n = nconns ? nconns : 1024;
		while (n <= fd)
			n *= 2;
		conns = realloc(conns, (size_t)n * sizeof *conns);
		if (!conns)
			die("realloc", ENOMEM);
		memset(conns + nconns, 0, (size_t)(n - nconns) * sizeof *conns);
		nconns = n;
	}
	return &conns[fd];
}

static void watch(int op, int fd, uint32_t events) {
	struct epoll_event ev = {.events = events, .data.fd = fd};
	if (epoll_ctl(ep, op, fd, &ev) < 0)
		die("epoll_ctl", errno);
}

static void close_conn(int fd) {
	struct conn *c = &conns[fd];
	free(c->out);
	*c = (struct conn){0};
	close(fd); // also takes it out of the epoll set
	st.closed++;
}

static void on_listener(void) {
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && st.accept_errors++ == 0)
				fprintf(stderr, "epoll_echo: accept: %s\n", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		conn_at(fd)->open = true;
		watch(EPOLL_CTL_ADD, fd, EPOLLIN);
		st.accepted++;
	}
}

// flush writes kept output; once it is all gone the connection reads again.
static void flush(int fd, struct conn *c) {
	ssize_t n = write(fd, c->out + c->off, c->len - c->off);
	st.writes++;
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			close_conn(fd);
		return;
	}
	st.bytes_out += n;
	c->off += n;
	if (c->off == c->len) {
		c->off = c->len = 0;
		watch(EPOLL_CTL_MOD, fd, EPOLLIN);
	}
}

// echo reads once and writes back what it read, keeping what the socket does
// not take.
static void echo(int fd, struct conn *c) {
	ssize_t n = read(fd, buf, sizeof buf);
	st.reads++;
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			close_conn(fd);
		return;
	}
	st.bytes_in += n;
	ssize_t w = write(fd, buf, n);
	st.writes++;
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			close_conn(fd);
			return;
		}
		w = 0;
	}
	st.bytes_out += w;
	if (w < n) {
		st.short_writes++;
		if (!c->out && !(c->out = malloc(BUFSIZE)))
			die("malloc", ENOMEM);
		memcpy(c->out, buf + w, n - w);
		c->off = 0;
		c->len = n - w;
		watch(EPOLL_CTL_MOD, fd, EPOLLOUT);
	}
}

// on_stdin answers the runner's "mark" lines; at stdin's end or on an error it
// stops watching stdin.
static void on_stdin(void) {
	ssize_t n = read(STDIN_FILENO, inbuf + inlen, sizeof inbuf - inlen);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		return;
	}
	take_input(n, st.enters);
}

int main(int argc, char **argv) {
	const char *addr = "127.0.0.1:0";
	for (int opt; (opt = getopt(argc, argv, "a:")) != -1;) {
		if (opt != 'a') {
			fprintf(stderr, "usage: epoll_echo [-a host:port]\n");
			exit(1);
		}
		addr = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: epoll_echo [-a host:port]\n");
		exit(1);
	}

	sfd = process_setup();

	char bound[64];
	lfd = listen_on(addr, SOCK_NONBLOCK, bound, sizeof bound);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1", errno);
	watch(EPOLL_CTL_ADD, lfd, EPOLLIN);
	watch(EPOLL_CTL_ADD, sfd, EPOLLIN);
	struct epoll_event sev = {.events = EPOLLIN, .data.fd = STDIN_FILENO};
	epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &sev); // EPERM for a file or /dev/null: no marks then

	printf("ready %s\n", bound);
	fflush(stdout);

	static struct epoll_event evs[1024];
	while (!stopping) {
		st.enters++;
		int n = epoll_wait(ep, evs, 1024, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait", errno);
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				on_listener();
			} else if (fd == sfd) {
				stopping = true;
			} else if (fd == STDIN_FILENO) {
				on_stdin();
			} else if (fd < nconns && conns[fd].open) {
				struct conn *c = &conns[fd];
				if (c->len)
					flush(fd, c);
				else
					echo(fd, c);
			}
		}
	}

	unsigned long long open = 0;
	for (int i = 0; i < nconns; i++)
		open += conns[i].open;
	printf("stats {\"impl\":\"c-epoll\",\"trigger\":\"level\",\"read_buffer\":%d,\"accepted\":%llu,"
	       "\"closed\":%llu,\"open_conns\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,\"reads\":%llu,"
	       "\"writes\":%llu,\"enters\":%llu,\"short_writes\":%llu,\"accept_errors\":%llu}\n",
	       BUFSIZE, st.accepted, st.closed, open, st.bytes_in, st.bytes_out, st.reads, st.writes,
	       st.enters, st.short_writes, st.accept_errors);
	fflush(stdout);
	return 0;
}
