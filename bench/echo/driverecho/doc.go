// Package driverecho is a TCP echo server written directly on the poller.Driver
// contract: the reference for how a server drives Zokio's I/O drivers without a
// runtime in between. It is also the "driver" contender of the echo benchmark
// (bench/echo), and runs unchanged on every driver (uring, epoll).
//
// # Shape
//
// One goroutine owns one Driver and runs Serve, a Wait(-1) loop; everything else
// happens in the ops' Done callbacks, on that goroutine:
//
//   - the listening socket has one MULTISHOT accept in flight, which stays armed
//     for the life of the server;
//   - every connection has one MULTISHOT recv with FlagBufferSelect: the kernel
//     (or, on epoll, the driver) picks a buffer from one BufferGroup shared by all
//     connections, the bytes are copied into the connection's send buffer and the
//     buffer is released at once, so a group of a few thousand buffers serves any
//     number of connections;
//   - every connection has at most ONE send in flight. Bytes that arrive while it
//     is in flight accumulate in a second buffer and leave together when it
//     completes (coalescing); a short send re-sends the rest first, so bytes never
//     reorder;
//   - a connection ends with an OpClose through the driver, which cancels and
//     drains the connection's other ops before the descriptor is released.
//
// Per-connection state is a struct with its three Ops embedded, recycled through a
// free list, with its Done callbacks bound once when the struct is first made, so
// that steady state allocates nothing (TestDriverEchoAllocs in bench/echo checks).
//
// Linux only: the listening socket is set up with Linux socket flags.
package driverecho
