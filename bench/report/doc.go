// Command report runs a short version of every bench/ experiment and writes one
// report: markdown with each experiment's tables, and PNG charts of the headline
// figures, under results/<UTC date>/. Run it from bench/:
//
//	go run -ldflags=-checklinkname=0 ./report            # about 10 minutes
//	go run -ldflags=-checklinkname=0 ./report -only=echo,http
//
// It runs the experiments one after another, each as its own `go run` of the
// experiment's program with short flags (fewer repetitions and shorter windows than
// the experiments' own defaults, so its figures are coarser: read its ratios, which
// are paired per repetition, rather than its absolute numbers), and shows their
// progress lines as they come. The experiments: nop (NOP submit+reap against
// giouring and C liburing), runtime (spawn, post, timers against goroutines and
// channels), echo (the event API and the net.Conn adapters against Go's net and the
// C liburing and epoll references), http (net/http on Go's net and on znet's
// adapters, plain and over crypto/tls, and `zokio http`), and file (zfile against
// os.File and fio).
package main
