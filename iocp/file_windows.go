package iocp

import (
	"math"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// Reads and writes: overlapped ReadFile and WriteFile, at Offset, or for Offset -1 at
// the position the driver tracks for the handle (read from the handle once, advanced by
// each such op's result when it completes), on a handle opened overlapped
// (FILE_FLAG_OVERLAPPED, as OpOpenat opens files). A handle opened for synchronous I/O
// (os.OpenFile's) is never associated with the port: its reads and writes run on a
// worker, at the handle's own file pointer for Offset -1 (see syncRW). ReadFile at or past the end completes with 0,
// whether Windows says so at once (ERROR_HANDLE_EOF) or in the packet
// (STATUS_END_OF_FILE, which Wine always uses). A file's readv and writev are a
// ReadFile or WriteFile per buffer, in turn, stopping at a short one.

// filePos returns the position for an Offset -1 op on hs.
func filePos(hs *handle) (int64, error) {
	if !hs.posKnown {
		p, err := windows.Seek(hs.h, 0, 1)
		if err != nil {
			return 0, err
		}
		hs.pos, hs.posKnown = p, true
	}
	return hs.pos, nil
}

// setOffset puts off into the OVERLAPPED, for disk files.
func (r *request) setOffset(hs *handle, off int64) {
	r.ov = windows.Overlapped{}
	if hs.kind == kindFile {
		r.ov.Offset, r.ov.OffsetHigh = uint32(off), uint32(off>>32)
	}
}

// clamp keeps a transfer's count within the result's int32.
func clamp(b []byte) []byte {
	if len(b) > math.MaxInt32 {
		return b[:math.MaxInt32]
	}
	return b
}

// rw starts one ReadFile or WriteFile. A synchronous end of file is a result of 0.
func (r *request) rw(h windows.Handle, read bool, b []byte) (int32, bool) {
	var err error
	if read {
		err = windows.ReadFile(h, clamp(b), &r.qty, &r.ov)
		if err == windows.ERROR_HANDLE_EOF || err == windows.ERROR_BROKEN_PIPE {
			return 0, true
		}
	} else {
		err = windows.WriteFile(h, clamp(b), &r.qty, &r.ov)
	}
	if err == windows.ERROR_ACCESS_DENIED {
		return resBadf, true // not open for this direction, as ioRes says for a packet
	}
	return pending(err)
}

func (d *Driver) issueRW(s *slot, op *poller.Op) (int32, bool) {
	off := op.Offset
	if off == -1 && s.hs.kind == kindFile {
		p, err := filePos(s.hs)
		if err != nil {
			return errRes(err), true
		}
		off = p
	}
	s.req.setOffset(s.hs, off)
	return s.req.rw(s.ioh, op.Code == poller.OpRead, op.Buf)
}

// issueFileVec starts the next buffer of a file's readv or writev.
func (d *Driver) issueFileVec(s *slot, op *poller.Op, first bool) (int32, bool) {
	r := s.req
	if first {
		r.vec, r.vecDone, r.off = 0, 0, op.Offset
		if op.Offset == -1 && s.hs.kind == kindFile {
			p, err := filePos(s.hs)
			if err != nil {
				return errRes(err), true
			}
			r.off = p
		}
	}
	for r.vec < len(op.Bufs) && len(op.Bufs[r.vec]) == 0 {
		r.vec++
	}
	if r.vec == len(op.Bufs) {
		return int32(r.vecDone), true
	}
	r.setOffset(s.hs, r.off+r.vecDone)
	res, done := r.rw(s.ioh, op.Code == poller.OpReadv, op.Bufs[r.vec])
	if done && (res == 0 || r.vecDone > 0) {
		res = int32(r.vecDone)
	}
	return res, done
}

// fileVecPacket takes one buffer's result and starts the next, or completes the op.
func (d *Driver) fileVecPacket(idx int32, s *slot, op *poller.Op, n uint32, err error) {
	r := s.req
	res := ioRes(op.Code == poller.OpReadv, n, err)
	if res < 0 || (res < int32(len(clamp(op.Bufs[r.vec]))) || s.flags&fCancelled != 0) {
		if res >= 0 {
			r.vecDone += int64(res)
		}
		d.finishVec(idx, s, op, res)
		return
	}
	r.vecDone += int64(res)
	r.vec++
	if r.vecDone >= math.MaxInt32 {
		d.finishVec(idx, s, op, 0)
		return
	}
	res, done := d.issueFileVec(s, op, false)
	if done {
		d.finishVec(idx, s, op, res)
	}
}

// finishVec completes a file's readv or writev with the bytes done so far (an error only
// when nothing was done), advancing the tracked position for Offset -1.
func (d *Driver) finishVec(idx int32, s *slot, op *poller.Op, res int32) {
	if s.req.vecDone > 0 || res >= 0 {
		res = int32(s.req.vecDone)
	}
	if res > 0 && op.Offset == -1 && s.hs.kind == kindFile {
		s.hs.pos += int64(res)
	}
	d.finish(idx, res, 0, 0)
}
