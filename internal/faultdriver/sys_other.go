//go:build !linux

package faultdriver

// kindOf knows no descriptor here, so no op is shortened or failed by Errno; delays,
// cancellations and refused submissions still apply.
func kindOf(int) fdKind { return fdOther }
