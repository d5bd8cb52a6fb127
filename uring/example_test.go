//go:build linux

package uring_test

import (
	"fmt"
	"log"

	"github.com/zokio/zokio/uring"
)

// A NOP makes the round trip through the kernel: prepare an SQE, submit
// and wait in one system call, then reap its CQE.
func ExampleRing_nop() {
	r, err := uring.New(uring.Config{Entries: 8})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	sqe := r.NextSQE()
	sqe.PrepNop()
	sqe.SetUserData(42)
	if _, err := r.SubmitAndWait(1, -1); err != nil {
		log.Fatal(err)
	}
	var cqes [1]uring.CQE
	n := r.PeekCQEs(cqes[:])
	fmt.Println(n, cqes[0].UserData, cqes[0].Res)
	// Output: 1 42 0
}
