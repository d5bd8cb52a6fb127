//go:build linux && libkqueue

package znet

// underLibkqueue: the kqueue driver runs on libkqueue (user-space kqueue on epoll, the
// test-only cgo build), which reads and so clears a socket's SO_ERROR to fill EV_EOF's
// fflags: a peer's reset then reaches recv as a plain EOF. A kernel's kqueue leaves it.
const underLibkqueue = true
