module github.com/zokio/zokio/bench

go 1.26.0

require (
	github.com/pawelgaczynski/giouring v0.0.0-20230826085535-69588b89acb9
	github.com/zokio/zokio v0.0.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.50.0
)

replace github.com/zokio/zokio => ../
