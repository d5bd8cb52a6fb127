// nop.c is the C reference contender of bench/nop: the same NOP
// submit-and-reap loop as the Go contenders, written against liburing.
//
// Usage: nop ENTRIES BATCH OPS WARMUP
//
// It sets up a plain ring of ENTRIES SQEs, runs WARMUP untimed NOPs, then
// OPS timed NOPs in rounds of BATCH: prepare BATCH NOPs (user_data = a
// running sequence number), one io_uring_submit_and_wait for BATCH
// completions, walk every CQE (checking res and summing user_data) and
// advance the CQ once. It prints one JSON line on stdout:
//
//   {"ops":N,"wall_ns":N,"user_ns":N,"sys_ns":N,"vcsw":N,"ivcsw":N,"checksum":N}
//
// wall_ns is CLOCK_MONOTONIC around the timed loop; user_ns, sys_ns and the
// voluntary and involuntary context switch counts are getrusage
// (RUSAGE_THREAD) deltas around it. Errors go to stderr with exit
// status 1. Build: gcc -O2 -o nop nop.c -luring
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "nop.c: %s: %s\n", what, strerror(err));
	exit(1);
}

// run pushes ops NOPs through the ring, batch at a time. It returns the sum
// of the user_data values reaped so the caller can check none was lost.
static uint64_t run(struct io_uring *ring, unsigned batch, uint64_t ops, uint64_t *seq)
{
	uint64_t sum = 0;
	for (uint64_t done = 0; done < ops; done += batch) {
		for (unsigned i = 0; i < batch; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
			if (sqe == NULL)
				die("io_uring_get_sqe", EBUSY);
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, (*seq)++);
		}
		int ret = io_uring_submit_and_wait(ring, batch);
		if (ret < 0)
			die("io_uring_submit_and_wait", -ret);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(ring, head, cqe) {
			if (cqe->res != 0)
				die("NOP completion", -cqe->res);
			sum += cqe->user_data;
			seen++;
		}
		if (seen != batch)
			die("reaped fewer CQEs than waited for", EPROTO);
		io_uring_cq_advance(ring, seen);
	}
	return sum;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s ENTRIES BATCH OPS WARMUP\n", argv[0]);
		return 2;
	}
	unsigned entries = (unsigned)strtoul(argv[1], NULL, 10);
	unsigned batch = (unsigned)strtoul(argv[2], NULL, 10);
	uint64_t ops = strtoull(argv[3], NULL, 10);
	uint64_t warmup = strtoull(argv[4], NULL, 10);
	if (entries == 0 || batch == 0 || batch > entries) {
		fprintf(stderr, "nop.c: need 0 < BATCH <= ENTRIES\n");
		return 2;
	}
	// Whole rounds only, as the Go contenders do.
	ops -= ops % batch;
	warmup -= warmup % batch;

	struct io_uring ring;
	int ret = io_uring_queue_init(entries, &ring, 0);
	if (ret < 0)
		die("io_uring_queue_init", -ret);

	uint64_t seq = 0;
	run(&ring, batch, warmup, &seq);

	uint64_t first = seq;
	struct rusage r0, r1;
	getrusage(RUSAGE_THREAD, &r0);
	uint64_t t0 = now_ns();
	uint64_t sum = run(&ring, batch, ops, &seq);
	uint64_t t1 = now_ns();
	getrusage(RUSAGE_THREAD, &r1);

	// The timed loop reaped user_data first..seq-1 exactly once each.
	uint64_t want = (first + seq - 1) * (seq - first) / 2;
	if (ops > 0 && sum != want)
		die("user_data checksum mismatch", EPROTO);
	io_uring_queue_exit(&ring);

	printf("{\"ops\":%" PRIu64 ",\"wall_ns\":%" PRIu64 ",\"user_ns\":%" PRIu64
	       ",\"sys_ns\":%" PRIu64 ",\"vcsw\":%ld,\"ivcsw\":%ld,\"checksum\":%" PRIu64 "}\n",
	       ops, t1 - t0, tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime),
	       tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime), r1.ru_nvcsw - r0.ru_nvcsw,
	       r1.ru_nivcsw - r0.ru_nivcsw, sum);
	return 0;
}
