package poller

import "unsafe"

// Validate checks the fields of op that every driver checks the same way, so that bad
// input gets the same error everywhere (C7). It returns nil or an *InvalidOpError; an
// op already in flight gets ErrInFlight. Drivers call it first in Submit; their own
// checks (unsupported flags) come after.
func Validate(op *Op) error {
	if op == nil {
		return &InvalidOpError{Reason: "nil op"}
	}
	if op.Ref != 0 {
		return ErrInFlight
	}
	if !op.Code.Valid() {
		return &InvalidOpError{Code: op.Code, Reason: "unknown opcode"}
	}
	if op.Done == nil {
		return invalid(op, "nil Done callback")
	}
	if err := validateFlags(op); err != nil {
		return err
	}
	return validateArgs(op)
}

func invalid(op *Op, reason string) error { return &InvalidOpError{Code: op.Code, Reason: reason} }

func validateFlags(op *Op) error {
	f := op.Flags
	if f&^flagsAll != 0 {
		return invalid(op, "unknown flags")
	}
	if f&FlagMultishot != 0 {
		switch {
		case op.Code != OpAccept && op.Code != OpRecv && op.Code != OpPoll:
			return invalid(op, "FlagMultishot is only for accept, recv and poll")
		case op.Code == OpRecv && f&FlagBufferSelect == 0:
			return invalid(op, "multishot recv needs FlagBufferSelect")
		case op.Code == OpAccept && op.Addr != nil:
			return invalid(op, "multishot accept takes no Addr")
		case f&FlagLink != 0:
			return invalid(op, "a multishot op cannot be linked")
		}
	}
	if f&FlagBufferSelect != 0 && op.Code != OpRecv {
		return invalid(op, "FlagBufferSelect is only for recv")
	}
	if f&FlagFixedBuffer != 0 && op.Code != OpRead && op.Code != OpWrite && op.Code != OpSendZC {
		// The kernel refuses a registered buffer for a plain send (EINVAL on 6.18);
		// SEND_ZC takes one.
		return invalid(op, "FlagFixedBuffer is only for read, write and send_zc")
	}
	if op.Timeout < 0 {
		return invalid(op, "negative Timeout")
	}
	if op.Timeout > 0 && op.Code != OpTimeout && f&(FlagLink|FlagMultishot) != 0 {
		return invalid(op, "Timeout cannot be combined with FlagLink or FlagMultishot")
	}
	return nil
}

func validateArgs(op *Op) error {
	if op.Fd != int(int32(op.Fd)) || op.Fd2 != int(int32(op.Fd2)) {
		// Descriptors are C ints on every kernel (and Windows handles fit 32 bits).
		return invalid(op, "descriptor out of range")
	}
	switch op.Code {
	case OpRead, OpRecv:
		if op.Flags&FlagBufferSelect != 0 {
			if op.Buf != nil {
				return invalid(op, "Buf must be nil with FlagBufferSelect")
			}
		} else if len(op.Buf) == 0 {
			return invalid(op, "nil or empty buffer")
		}
	case OpReadv:
		if totalLen(op.Bufs) == 0 {
			return invalid(op, "nil or empty buffers")
		}
	case OpRecvmsg:
		if totalLen(op.Bufs) == 0 && op.Control == nil {
			return invalid(op, "no buffers")
		}
	case OpOpenat, OpUnlinkat, OpMkdirat:
		return validPath(op, op.Path)
	case OpRenameat:
		if err := validPath(op, op.Path); err != nil {
			return err
		}
		return validPath(op, op.Path2)
	case OpStatx:
		if len(op.Buf) < StatxSize {
			return invalid(op, "Buf shorter than StatxSize")
		}
		if uintptr(unsafe.Pointer(&op.Buf[0]))%8 != 0 {
			return invalid(op, "Buf not 8-byte aligned")
		}
		return validPath(op, op.Path)
	case OpConnect:
		if op.Addr == nil || op.Addr.Len == 0 || int(op.Addr.Len) > len(op.Addr.Raw) {
			return invalid(op, "missing or bad Addr")
		}
	case OpFallocate, OpFtruncate:
		if op.Offset < 0 || op.Len < 0 {
			return invalid(op, "negative offset or length")
		}
	case OpTimeout:
		if op.Flags&(FlagLink|FlagMultishot) != 0 {
			return invalid(op, "timeout takes no flags")
		}
	case OpSplice:
		switch {
		case op.Len <= 0 || op.Len > MaxRW:
			return invalid(op, "splice Len not in 1..MaxRW")
		case op.Flags&FlagFixedFile != 0:
			return invalid(op, "FlagFixedFile is not for splice")
		case op.Arg&^SpliceMore != 0:
			return invalid(op, "unknown splice flags")
		case op.Timeout > 0:
			return invalid(op, "Timeout is not for splice")
		}
	}
	if op.Offset < -1 {
		return invalid(op, "negative offset")
	}
	if len(op.Buf) > MaxRW || overMaxRW(op.Bufs) {
		return invalid(op, "buffers longer than MaxRW bytes")
	}
	if len(op.Bufs) > MaxBufs {
		return invalid(op, "more than MaxBufs buffers")
	}
	if op.Addr != nil && int(op.Addr.Len) > len(op.Addr.Raw) {
		return invalid(op, "Addr.Len larger than Addr.Raw")
	}
	return nil
}

func validPath(op *Op, p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] == 0 {
			return invalid(op, "path contains a NUL byte")
		}
	}
	return nil
}

func totalLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// overMaxRW reports whether bufs hold more than MaxRW bytes in all. It stops counting
// once past the limit, so that no number of huge buffers can overflow the sum.
func overMaxRW(bufs [][]byte) bool {
	n := 0
	for _, b := range bufs {
		if n += len(b); n > MaxRW {
			return true
		}
	}
	return false
}
