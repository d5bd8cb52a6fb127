package driver_test

import (
	"fmt"

	"github.com/zokio/zokio/runtime/driver"
)

// Choose tells which driver this process gets and why, without opening one. The same
// decision backs the runtime and `zokio info`.
func ExampleChoose() {
	dec, err := driver.Choose(driver.Auto)
	if err != nil {
		fmt.Println("no driver:", err)
		return
	}
	fmt.Println(dec.Kind != driver.Auto && dec.Reason != "")
	// Output: true
}

// ParseKind reads a driver name as ZOKIO_DRIVER and command-line flags spell it.
func ExampleParseKind() {
	k, err := driver.ParseKind("EPOLL")
	fmt.Println(k, err)
	_, err = driver.ParseKind("kqeue")
	fmt.Println(err)
	// Output:
	// epoll <nil>
	// driver: unknown driver "kqeue" (want auto, uring, epoll, kqueue or iocp)
}
