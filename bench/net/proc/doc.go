// Package proc reads what bench/net measures of another process from /proc. Linux only:
// elsewhere it does not build past this comment.
package proc
