//go:build linux && !libkqueue

package znet

// underLibkqueue: see libkqueue_tag_test.go.
const underLibkqueue = false
