package pollertest

import "syscall"

// NetBSD's open(2) refuses O_NOFOLLOW on a symbolic link with EFTYPE.
func init() { errLoop = append(errLoop, syscall.EFTYPE) }
