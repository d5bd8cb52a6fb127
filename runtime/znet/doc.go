// Package znet is networking on Zokio's runtime: TCP, Unix and UDP sockets whose I/O
// runs on the runtime's loops, through the same poller.Driver contract on io_uring,
// epoll, kqueue and IOCP. (The name keeps it from shadowing the standard library's net in code
// that uses both.)
//
// It offers two APIs over one engine:
//
//   - The event API (Serve, Handler, Conn): callbacks on the connection's loop, no
//     goroutine per connection, and no allocation per message in steady state.
//     OnData sees received bytes in place, in the loop's receive buffers; Write
//     copies into the connection's send buffer, and what a callback wrote leaves in
//     one send when it returns.
//   - Adapters for code written against the standard library: Listen returns a
//     net.Listener, Dial a net.Conn (NetConn) and ListenPacket a net.PacketConn, with
//     working deadlines, so net/http's Server and crypto/tls run on them unchanged.
//     Their blocking calls park the calling goroutine until the op completes on a
//     loop (runtime.Loop.Do); nothing polls.
//
// Errors read like the net package's: *net.OpError around net.ErrClosed after Close,
// os.ErrDeadlineExceeded after a deadline, *os.SyscallError for the kernel's errors
// (ECONNRESET, ECONNREFUSED, EADDRINUSE ...), and a bare io.EOF on orderly shutdown.
// On a system Zokio has no driver for (other than Linux, macOS, the BSDs and
// Windows), Serve, Listen, Dial and ListenPacket return an error wrapping
// errors.ErrUnsupported.
//
// # Platforms
//
// Linux, macOS, FreeBSD, NetBSD, OpenBSD and DragonFly run the same code (one Unix
// system layer); what differs per system is the kernel's:
//
//   - macOS has no SOCK_NONBLOCK or SOCK_CLOEXEC for socket(2) and no accept4: a
//     socket is made, then set close-on-exec (under syscall.ForkLock, as Go's net
//     does) and non-blocking. It has no MSG_NOSIGNAL: every socket gets
//     SO_NOSIGPIPE, so a write to a closed peer fails with EPIPE there too.
//   - SO_REUSEPORT spreads a port's connections over the sockets sharing it on
//     Linux and DragonFly; FreeBSD does that with SO_REUSEPORT_LB, which znet uses
//     there. On macOS, NetBSD and OpenBSD sockets can share a port
//     (Config.ReusePort works) but the kernel does not spread connections over
//     them, so AcceptAuto means AcceptHandoff there.
//   - Unix socket paths hold up to 103 bytes on the BSDs (107 on Linux), and only
//     Linux has abstract names: elsewhere a leading '@' is part of the file name. An
//     unnamed socket's address is "" on the BSDs and "@" on Linux, as Go's net
//     prints them.
//   - OpenBSD has no dual-stack sockets: a wildcard "tcp" or "udp" listener (":80")
//     is IPv4 there, as Go's net makes it; name "tcp6" for IPv6.
//   - The adapters' direct reads and writes from the calling goroutine (a socket
//     call before a trip through the loop) are raw system calls on Linux, FreeBSD,
//     NetBSD and DragonFly, and calls through libc (x/sys) on macOS and OpenBSD,
//     which allow no others. SEND_ZC and incremental buffers are io_uring's; the
//     kqueue driver emulates multishot receives and buffer groups, as epoll's does
//     (poller.Features says what a driver has).
//
// # The engine
//
// Each loop has one provided-buffer group that all its connections receive into: a
// connection has one multishot receive armed, the kernel (or, on epoll, the driver)
// picks a buffer per completion, OnData runs on it, and the buffer goes back as soon
// as OnData returns — unless the handler keeps it with Conn.Retain. On io_uring with
// Linux 6.12 or later the kernel fills a buffer a part at a time (incremental
// consumption, poller.FeatIncrementalBuffers): a receive takes only the bytes that
// arrived, the next continues after them, so small messages from many connections
// share a buffer and a burst fills one to its end; such a buffer goes back once the
// kernel has filled it and every piece OnData was handed has been released. The
// default group follows from that: 64 buffers of 64 KiB there (a burst is taken in
// receives of up to 64 KiB, and 4 MiB per loop serve thousands of connections), 1024
// of 16 KiB where every receive takes a whole buffer (see Config.RecvBuffers). A
// multishot receive that ends quietly (CQ overflow, a completion without F_MORE) is
// re-armed; one that ends with ENOBUFS because handlers retained every buffer waits
// on a per-group list and is re-armed when a buffer comes back. A group that runs dry
// as often as it has buffers grows (a handler forwarding with WriteRetained holds a
// buffer per connection until its send completes): the loop makes one with twice the
// buffers, up to 64 MiB, and connections move to it as they re-arm; LoopRecvStats
// counts receives, ENOBUFS endings and growths. Bytes the kernel has not delivered
// stay in the socket, so no path loses any.
//
// A connection has at most one send whose byte count is outstanding: what is written
// meanwhile accumulates and leaves in the next send, so writes coalesce under load
// (a pipelined burst of requests is answered with one send) and bytes never reorder;
// a short send re-sends its rest first. On io_uring, a send of at least
// Config.SendZCThreshold bytes to a remote peer uses SEND_ZC: its byte count lets the
// next (copy) send go, but its buffer stays the kernel's until the notification
// completion, and is never reused for writing before. Conn.WriteRetained splices a
// received buffer into that queue instead of copying it (zero-copy forwarding): a
// send then takes copied bytes and received buffers together as one sendmsg, and the
// buffers go back to their group once sent.
//
// Close flushes what was written (bounded by Config.FlushTimeout), then closes the
// descriptor through the driver: OpClose cancels the receive and drains every op on
// the descriptor before close(2), so the number is never released under an op in
// flight. The adapters keep Go's fdMutex discipline: a call holds a reference while it
// uses the descriptor, Close wakes the calls in flight through their deadline
// channels, and the last reference closes it.
//
// # Backpressure
//
// A connection's unsent output never exceeds Config.WriteBufferLimit for writes a
// handler makes on its own (Write beyond it fails with ErrWriteBufferFull, and
// OnWritable says when to go on); past half the limit the connection stops reading,
// so an echo-like handler, which writes what it reads, never meets the error; what the
// kernel had already received when reading stopped is still delivered and accepted
// (bounded by the socket's receive buffer). A peer that never reads therefore costs at
// most two send buffers of the limit (the one in flight and the next).
//
// # Spreading connections across loops
//
// Serve gives every loop its own listening socket with SO_REUSEPORT and its own
// multishot accept (AcceptReusePort), rather than one acceptor handing connections to
// the other loops (AcceptHandoff). See the package's README section and bench/net for
// the measurements; in short, reuseport accepts with no cross-thread wakeup per
// connection, and the kernel's hash spreads connections within a few percent of even
// at the connection counts servers see, while a handoff costs a post to the target
// loop and a wakeup of its thread for every connection. Unix sockets have no
// SO_REUSEPORT and use the handoff.
//
// Those sockets share the port among the server's loops only: the first binds without
// SO_REUSEPORT, so Serve on an address in use fails with EADDRINUSE as Listen does,
// and takes the option once bound so that the others join it. Config.ReusePort shares
// the port with other servers that ask for it too.
//
// # Options and zero-copy copies
//
// Dialer and ListenConfig take net.Dialer's and net.ListenConfig's options (a Control
// hook, keep-alive, a local address, timeouts), and Config the same for Serve. As in
// Go's net, TCP connections get TCP_NODELAY and keep-alive probes after 15 s idle
// unless told otherwise. NetConn has net.TCPConn's option setters and SyscallConn. Its
// ReadFrom and WriteTo splice where the driver has poller.FeatSplice, so io.Copy
// between a connection and a file or another connection (http.FileServer, a proxy)
// moves no byte through user space. Dial of "udp" returns a connected UDPConn.
package znet
