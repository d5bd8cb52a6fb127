//go:build ignore

// uring_echo is the c-uring contender of the echo benchmark (bench/echo): a
// minimal TCP echo server in C on io_uring through liburing, the reference
// point the Go servers on io_uring are measured against. Package cref embeds
// this file and compiles it with gcc at run time; the go:build line above only
// keeps the Go tool from taking it for cgo source of that package.
//
//	uring_echo [-a host:port] [-e sq_entries] [-b buffers] [-s buffer_size]
//
// Design. One thread, one ring, set up with SINGLE_ISSUER|DEFER_TASKRUN (or
// without them where the kernel refuses them with EINVAL), the completion
// queue 8× the submission queue. One multishot accept on the listener. Each
// connection has one multishot recv that picks its buffers from a provided
// buffer ring; every received buffer is echoed as it is, with a send from that
// buffer, and goes back to the ring only when its send has completed. A
// connection has at most one send in flight: buffers that arrive meanwhile
// queue behind it, and a short send is resent from where it stopped, so the
// bytes go back in order. A recv that ends without IORING_CQE_F_MORE is
// re-armed; one that ended with -ENOBUFS (every buffer is out, waiting for its
// send) is re-armed once a buffer has come back. A connection whose peer does
// not read its echo must not take every buffer from the others: once its queue
// holds 32 buffers (or a quarter of the ring, if that is fewer), its recv is
// cancelled, and re-armed when half of the queue has gone out (a pause). EOF or
// an error closes the connection once nothing of it is in flight. Stdin (the
// runner's commands) and a signalfd for SIGTERM and SIGINT are read through the
// ring too. The loop submits once per iteration: io_uring_submit_and_wait(ring,
// 1), then every completion there is, then the returned buffers go back to the
// ring in one store.
//
// Buffers: 2048 of 32 KiB (64 MiB). The count is twice the 1000 connections
// of the benchmark's largest scenario, so that each can hold one buffer in its
// send and receive the next before the ring runs dry. The size is set by the
// cost of an operation, not by the message: on loopback a send costs the
// whole TCP path of both ends, so a pipelined burst (16 × 4 KiB) should leave
// in few sends. A 32 KiB buffer takes eight 4 KiB messages, or a whole burst
// of 64-byte ones, per recv and per send. In short runs at 50x4096p16 on the
// benchmark's 2-core machine, 4 KiB buffers cost about 3.5 times the server
// CPU per message of 32 KiB ones, 16 KiB ones about 1.2 times, and 64 KiB ones
// (what c-epoll reads at once) were within the noise of 32 KiB while leaving
// half as many buffers per connection. Flags -b and -s change the geometry.
//
// Runner protocol (the same as bench/echo/server's): "ready <addr>" on stdout
// once it listens; each "mark" line on stdin is answered "mark 0 <enters>",
// 0 for the allocation count it does not track (the runner then shows n/a)
// and the io_uring_enter calls so far; SIGTERM or SIGINT end it with
// "stats <json>" on stdout and exit status 0. Exit status 2: io_uring or its
// buffer ring could not be set up here (forbidden, or too old a kernel).

#define _GNU_SOURCE
#define PROG "uring_echo"
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

// What a completion is for: the operation in the high 32 bits of user_data,
// the descriptor in the low ones.
enum { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_CANCEL, OP_STDIN, OP_SIGNAL };
#define UDATA(op, fd) ((uint64_t)(op) << 32 | (uint32_t)(fd))
#define BGID 0 // the buffer group of the provided buffer ring

// A received buffer waiting to be echoed: bytes [off, len) of buffer bid.
struct chunk {
	uint16_t bid;
	uint32_t off, len;
};

// A connection, kept in conns[] at its descriptor.
struct conn {
	int fd;          // -1: the slot is free
	bool recv_armed; // a multishot recv is in flight
	bool send_busy;  // a send of q's head is in flight
	bool eof;        // the peer has shut down its side: close once q is echoed
	bool failed;     // an error: close once nothing is in flight
	bool starved;    // on the starved list, for a re-arm after -ENOBUFS
	bool paused;     // q is long: no recv until it is down to half of qmax
	uint32_t qhead, qlen, qcap; // q is a ring of qcap (a power of 2) chunks
	struct chunk *q;
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static unsigned char *bufs;
static unsigned nbufs = 2048, bufsize = 32768;
static unsigned qmax;    // the most buffers a connection's queue holds before it pauses
static unsigned held;    // buffers taken by recvs and not yet given back
static unsigned returns; // buffers added to the ring since its last advance

static struct conn *conns;
static int nconns;
static int *starved; // connections whose recv ended with -ENOBUFS
static int nstarved, starvedcap;

static int lfd, sfd;
static bool stopping;

static struct {
	unsigned long long accepted, closed, bytes_in, bytes_out, recvs, sends,
		enters, enobufs, short_sends, pauses, sq_full, accept_errors;
} st;

// unavailable reports that io_uring cannot be used here, with exit status 2.
static void unavailable(const char *what, int err) {
	fprintf(stderr, "uring_echo: %s: %s\n", what, strerror(err));
	exit(2);
}

static void *xrealloc(void *p, size_t n) {
	p = realloc(p, n);
	if (!p)
		die("realloc", ENOMEM);
	return p;
}

// get_sqe returns a free SQE, submitting what is queued when the SQ is full.
static struct io_uring_sqe *get_sqe(void) {
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	if (!sqe) {
		st.sq_full++;
		st.enters++;
		int ret = io_uring_submit(&ring);
		if (ret < 0)
			die("io_uring_submit", -ret);
		sqe = io_uring_get_sqe(&ring);
		if (!sqe)
			die("io_uring_get_sqe", EBUSY);
	}
	return sqe;
}

static struct conn *conn_at(int fd) {
	if (fd >= nconns) {
		int n = nconns ? nconns : 1024;
		while (n <= fd)
			n *= 2;
		conns = xrealloc(conns, (size_t)n * sizeof *conns);
		for (int i = nconns; i < n; i++)
			conns[i] = (struct conn){.fd = -1};
		nconns = n;
	}
	return &conns[fd];
}

static unsigned char *buf_addr(unsigned bid) { return bufs + (size_t)bid * bufsize; }

// give_back returns a buffer to the ring; the loop makes the returns visible
// to the kernel in one store per iteration (flush_returns).
static void give_back(unsigned bid) {
	io_uring_buf_ring_add(br, buf_addr(bid), bufsize, bid, io_uring_buf_ring_mask(nbufs), returns++);
	held--;
}

static void flush_returns(void) {
	if (returns) {
		io_uring_buf_ring_advance(br, returns);
		returns = 0;
	}
}

static void arm_accept(void) {
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, UDATA(OP_ACCEPT, lfd));
}

static void arm_recv(struct conn *c) {
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, UDATA(OP_RECV, c->fd));
	c->recv_armed = true;
}

// send_head sends what is left of the connection's oldest queued buffer.
static void send_head(struct conn *c) {
	struct chunk *h = &c->q[c->qhead];
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_send(sqe, c->fd, buf_addr(h->bid) + h->off, h->len - h->off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, UDATA(OP_SEND, c->fd));
	c->send_busy = true;
	st.sends++;
}

// pause cancels the recv of a connection whose queue has grown to qmax.
static void pause_recv(struct conn *c) {
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_cancel64(sqe, UDATA(OP_RECV, c->fd), 0);
	io_uring_sqe_set_data64(sqe, UDATA(OP_CANCEL, c->fd));
	c->paused = true;
	st.pauses++;
}

// maybe_rearm arms the recv of a connection that has none and should receive:
// not at its end, not waiting for buffers, not paused (a pause ends when the
// queue is down to half of qmax).
static void maybe_rearm(struct conn *c) {
	if (c->recv_armed || c->eof || c->failed || c->starved)
		return;
	if (c->qlen >= qmax)
		c->paused = true;
	if (c->paused) {
		if (c->qlen > qmax / 2)
			return;
		c->paused = false;
	}
	arm_recv(c);
}

static void push(struct conn *c, unsigned bid, unsigned len) {
	if (c->qlen == c->qcap) {
		uint32_t ncap = c->qcap ? 2 * c->qcap : 8;
		struct chunk *q = xrealloc(NULL, ncap * sizeof *q);
		for (uint32_t i = 0; i < c->qlen; i++)
			q[i] = c->q[(c->qhead + i) & (c->qcap - 1)];
		free(c->q);
		c->q = q;
		c->qcap = ncap;
		c->qhead = 0;
	}
	c->q[(c->qhead + c->qlen) & (c->qcap - 1)] = (struct chunk){.bid = bid, .len = len};
	c->qlen++;
}

static void pop(struct conn *c) {
	c->qhead = (c->qhead + 1) & (c->qcap - 1);
	c->qlen--;
}

// maybe_close closes a connection that is done (EOF with everything echoed, or
// an error) once none of its operations is in flight.
static void maybe_close(struct conn *c) {
	if (c->send_busy || c->recv_armed || !(c->failed || (c->eof && c->qlen == 0)))
		return;
	for (; c->qlen; pop(c))
		give_back(c->q[c->qhead].bid);
	close(c->fd);
	free(c->q);
	*c = (struct conn){.fd = -1};
	st.closed++;
}

// fail marks a connection broken; a recv still armed ends when the socket is
// shut down, and the connection closes when it has.
static void fail(struct conn *c) {
	if (!c->failed && c->recv_armed)
		shutdown(c->fd, SHUT_RDWR);
	c->failed = true;
}

static void on_accept(struct io_uring_cqe *cqe) {
	if (cqe->res >= 0) {
		int fd = cqe->res, one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = conn_at(fd);
		*c = (struct conn){.fd = fd};
		arm_recv(c);
		st.accepted++;
	} else if (st.accept_errors++ == 0) {
		fprintf(stderr, "uring_echo: accept: %s\n", strerror(-cqe->res));
	}
	if (!(cqe->flags & IORING_CQE_F_MORE) && !stopping)
		arm_accept();
}

static void on_recv(struct conn *c, struct io_uring_cqe *cqe) {
	int res = cqe->res;
	if (!(cqe->flags & IORING_CQE_F_MORE))
		c->recv_armed = false;
	if (res > 0) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		held++;
		st.recvs++;
		st.bytes_in += res;
		if (c->failed) {
			give_back(bid);
		} else {
			push(c, bid, res);
			if (!c->send_busy)
				send_head(c);
			if (c->qlen >= qmax && c->recv_armed && !c->paused)
				pause_recv(c);
		}
	} else if (res == 0) {
		c->eof = true;
	} else if (res == -ENOBUFS) {
		st.enobufs++;
		if (!c->recv_armed && !c->starved && !c->failed) {
			if (nstarved == starvedcap) {
				starvedcap = starvedcap ? 2 * starvedcap : 64;
				starved = xrealloc(starved, (size_t)starvedcap * sizeof *starved);
			}
			starved[nstarved++] = c->fd;
			c->starved = true;
		}
	} else if (res != -ECANCELED) { // -ECANCELED: the end of a pause_recv
		fail(c);
	}
	maybe_rearm(c);
	maybe_close(c);
}

static void on_send(struct conn *c, struct io_uring_cqe *cqe) {
	int res = cqe->res;
	c->send_busy = false;
	if (res <= 0) {
		fail(c);
	} else {
		struct chunk *h = &c->q[c->qhead];
		st.bytes_out += res;
		h->off += res;
		if (h->off < h->len) {
			st.short_sends++;
		} else {
			give_back(h->bid);
			pop(c);
		}
		if (c->qlen)
			send_head(c);
		if (c->paused)
			maybe_rearm(c);
	}
	maybe_close(c);
}

// rearm_starved re-arms the recvs that ran out of buffers, once some are back.
static void rearm_starved(void) {
	if (!nstarved || held == nbufs)
		return;
	for (int i = 0; i < nstarved; i++) {
		struct conn *c = &conns[starved[i]];
		if (c->fd != starved[i] || !c->starved)
			continue; // closed meanwhile, or already re-armed
		c->starved = false;
		maybe_rearm(c);
	}
	nstarved = 0;
}

static void arm_stdin(void) {
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_read(sqe, STDIN_FILENO, inbuf + inlen, sizeof inbuf - inlen, (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, UDATA(OP_STDIN, STDIN_FILENO));
}

// on_stdin answers the runner's "mark" lines; stdin's end or an error ends
// the reading.
static void on_stdin(int res) {
	if (res <= 0)
		return;
	take_input(res, st.enters);
	arm_stdin();
}

static void arm_signal(void) {
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_poll_add(sqe, sfd, POLLIN);
	io_uring_sqe_set_data64(sqe, UDATA(OP_SIGNAL, sfd));
}

static void handle(struct io_uring_cqe *cqe) {
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	int fd = (int)(uint32_t)ud;
	switch (ud >> 32) {
	case OP_ACCEPT:
		on_accept(cqe);
		break;
	case OP_RECV:
		on_recv(&conns[fd], cqe);
		break;
	case OP_SEND:
		on_send(&conns[fd], cqe);
		break;
	case OP_CANCEL:
		break; // the cancelled recv reports its end itself
	case OP_STDIN:
		on_stdin(cqe->res);
		break;
	case OP_SIGNAL:
		stopping = true;
		break;
	}
}

// setup_buffers allocates the buffers and registers the provided buffer ring
// with all of them.
static void setup_buffers(void) {
	int ret;
	bufs = mmap(NULL, (size_t)nbufs * bufsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bufs == MAP_FAILED)
		die("mmap", errno);
#ifdef IO_URING_VERSION_MAJOR // liburing 2.4 and later
	br = io_uring_setup_buf_ring(&ring, nbufs, BGID, 0, &ret);
	if (!br)
		unavailable("io_uring_setup_buf_ring", -ret);
#else // liburing 2.3 (Debian 12): map and register the ring by hand
	br = mmap(NULL, (size_t)nbufs * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
	          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED)
		die("mmap", errno);
	io_uring_buf_ring_init(br);
	struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)br, .ring_entries = nbufs, .bgid = BGID};
	ret = io_uring_register_buf_ring(&ring, &reg, 0);
	if (ret < 0)
		unavailable("io_uring_register_buf_ring", -ret);
#endif
	for (unsigned i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(br, buf_addr(i), bufsize, i, io_uring_buf_ring_mask(nbufs), i);
	io_uring_buf_ring_advance(br, nbufs);
}

static void usage(void) {
	fprintf(stderr, "usage: uring_echo [-a host:port] [-e sq_entries] [-b buffers (a power of 2, ≤ 32768)] [-s buffer_size]\n");
	exit(1);
}

int main(int argc, char **argv) {
	const char *addr = "127.0.0.1:0";
	unsigned entries = 1024;
	for (int opt; (opt = getopt(argc, argv, "a:e:b:s:")) != -1;) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'e': entries = strtoul(optarg, NULL, 10); break;
		case 'b': nbufs = strtoul(optarg, NULL, 10); break;
		case 's': bufsize = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind != argc || entries == 0 || nbufs == 0 || nbufs > 32768 || (nbufs & (nbufs - 1)) || bufsize == 0)
		usage();
	qmax = nbufs / 4 < 32 ? nbufs / 4 : 32;
	if (qmax < 2)
		qmax = 2;

	sfd = process_setup();

	char bound[64];
	lfd = listen_on(addr, 0, bound, sizeof bound);

	const char *mode = "single_issuer|defer_taskrun";
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
		.cq_entries = 8 * entries,
	};
	int ret = io_uring_queue_init_params(entries, &ring, &p);
	if (ret == -EINVAL) {
		fprintf(stderr, "uring_echo: SINGLE_ISSUER|DEFER_TASKRUN refused (EINVAL); running without them\n");
		mode = "none";
		p = (struct io_uring_params){.flags = IORING_SETUP_CQSIZE, .cq_entries = 8 * entries};
		ret = io_uring_queue_init_params(entries, &ring, &p);
	}
	if (ret < 0)
		unavailable("io_uring_queue_init_params", -ret);
	setup_buffers();
	arm_accept();
	arm_stdin();
	arm_signal();

	printf("ready %s\n", bound);
	fflush(stdout);

	while (!stopping) {
		st.enters++;
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			die("io_uring_submit_and_wait", -ret);
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			handle(cqe);
			n++;
		}
		io_uring_cq_advance(&ring, n);
		flush_returns();
		rearm_starved();
	}

	unsigned long long open = 0;
	for (int i = 0; i < nconns; i++)
		open += conns[i].fd >= 0;
	printf("stats {\"impl\":\"c-uring\",\"setup_flags\":\"%s\",\"sq_entries\":%u,\"cq_entries\":%u,"
	       "\"buffers\":%u,\"buffer_size\":%u,\"accepted\":%llu,\"closed\":%llu,\"open_conns\":%llu,"
	       "\"bytes_in\":%llu,\"bytes_out\":%llu,\"recvs\":%llu,\"sends\":%llu,\"enters\":%llu,"
	       "\"enobufs\":%llu,\"short_sends\":%llu,\"pauses\":%llu,\"sq_full\":%llu,\"accept_errors\":%llu}\n",
	       mode, p.sq_entries, p.cq_entries, nbufs, bufsize, st.accepted, st.closed, open,
	       st.bytes_in, st.bytes_out, st.recvs, st.sends, st.enters, st.enobufs, st.short_sends,
	       st.pauses, st.sq_full, st.accept_errors);
	fflush(stdout);
	io_uring_queue_exit(&ring);
	return 0;
}
