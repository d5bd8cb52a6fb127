// Package iocp is Zokio's Windows driver: a [poller.Driver] on an I/O completion port.
//
// The kernel completes every socket and file operation itself (FeatNativeCompletion,
// FeatAsyncFileIO): WSARecv, WSASend, WSARecvMsg, WSASendMsg, WSARecvFrom and WSASendTo,
// AcceptEx and ConnectEx, ReadFile and WriteFile at offsets, all overlapped, with their
// packets collected by GetQueuedCompletionStatusEx. OpPoll is an AFD poll
// (IOCTL_AFD_POLL on \Device\Afd, the mechanism behind WSAPoll that mio and wepoll use).
// The path ops and the ops Windows has no overlapped form of (fsync, ftruncate,
// fallocate, open, stat, mkdir, unlink, rename) run on a small bounded worker pool whose
// results come back through the same port.
//
// Memory custody: each op slot owns a request, allocated once on the Go heap and reused,
// that holds the OVERLAPPED and everything a pending call reads or writes by pointer
// (WSABUF arrays, the flags word, address lengths, AcceptEx's address buffer, the AFD poll
// record). The slot table keeps it referenced until the op's packet arrives, even after
// Cancel; the Go heap does not move objects, so its address stays valid. A packet is
// mapped back to its op through the slot index and generation stored next to the
// OVERLAPPED, never through a pointer alone: a packet whose generation does not match
// is stale and dropped.
//
// Handles and ports: Windows associates a handle with one completion port for the
// handle's life. The driver associates a handle at its first use, and the handle an
// OpOpenat opens at once, so that the driver that opened a file holds it. Another
// driver of the process (another loop's) reads and writes such a file on its workers,
// each call waiting on an event and sending no packet to the holder's port; a socket or
// pipe that another port holds (another driver's, or Go's runtime's for package net)
// is refused by Submit with a [ForeignHandleError], never issued to be lost.
//
// The package builds only for Windows; this file carries the documentation for every
// platform.
package iocp
