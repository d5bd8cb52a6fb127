//go:build !linux

package znet

// No splice here (no driver has poller.FeatSplice): splice.go copies in user space.

func newPipe() (r, w, size int, err error) { return -1, -1, 0, errUnsupported }
func dupFd(fd int) (int, error)            { return -1, errUnsupported }
func appendOnly(fd int) bool               { return true }

func isAgain(err error) bool { return false }
