package iocp

import (
	"math"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// OpPoll is an AFD poll: IOCTL_AFD_POLL on the driver's \Device\Afd handle, naming the
// socket's base handle, completes through the port when one of the events holds. AFD
// reports the state at the time of the call, so it is level-triggered: a multishot poll
// re-arms after each delivered event, and fires again at once if the condition still
// holds (io_uring's multishot poll fires once per wake-up instead). Cancel uses
// CancelIoEx on the AFD handle with the op's OVERLAPPED.

// The POLL event bits that Arg and Res use: poller's portable names (Linux's values on
// Windows).
const (
	pollIn    = poller.PollIn
	pollPri   = poller.PollPri
	pollOut   = poller.PollOut
	pollErr   = poller.PollErr
	pollHup   = poller.PollHup
	pollRdHup = poller.PollRdHup
)

// afdEvents is what AFD should watch for the requested POLL events; errors and hangups
// are always reported, as poll(2) does.
func afdEvents(ev uint32) uint32 {
	a := uint32(afdPollAbort | afdPollConnectFail | afdPollLocalClose)
	if ev&pollIn != 0 {
		a |= afdPollReceive | afdPollAccept | afdPollDisconnect
	}
	if ev&pollPri != 0 {
		a |= afdPollReceiveExpedited
	}
	if ev&pollOut != 0 {
		a |= afdPollSend
	}
	if ev&pollRdHup != 0 {
		a |= afdPollDisconnect
	}
	return a
}

// pollRevents translates AFD's events back, limited to what was asked plus the
// conditions poll(2) always reports.
func pollRevents(a, want uint32) int32 {
	var ev uint32
	if a&(afdPollReceive|afdPollAccept) != 0 {
		ev |= pollIn
	}
	if a&afdPollReceiveExpedited != 0 {
		ev |= pollPri
	}
	if a&afdPollSend != 0 {
		ev |= pollOut
	}
	if a&afdPollDisconnect != 0 {
		ev |= pollIn | pollRdHup
	}
	if a&afdPollAbort != 0 {
		ev |= pollIn | pollOut | pollHup
	}
	if a&afdPollConnectFail != 0 {
		ev |= pollOut | pollErr
	}
	return int32(ev & (want | pollErr | pollHup))
}

// issuePoll starts an AFD poll for op's socket.
func (d *Driver) issuePoll(s *slot, op *poller.Op) (int32, bool) {
	if s.hs.kind != kindSocket {
		return -int32(windows.ERROR_NOT_SUPPORTED), true
	}
	if d.afd == 0 {
		h, err := openAFD()
		if err != nil {
			return errRes(err), true
		}
		if _, err := windows.CreateIoCompletionPort(h, d.port, keyIO, 0); err != nil {
			windows.CloseHandle(h)
			return errRes(err), true
		}
		d.afd = h
	}
	if s.hs.base == 0 {
		s.hs.base = baseHandle(s.hs.h)
	}
	s.ioh = d.afd
	r := s.req
	r.poll = afdPollInfo{Timeout: math.MaxInt64, NumberOfHandles: 1}
	r.poll.Handles[0] = afdPollHandleInfo{Handle: s.hs.base, Events: afdEvents(op.Arg)}
	r.ov = windows.Overlapped{}
	size := uint32(unsafe.Sizeof(r.poll))
	// SAFETY: r.poll is in the request, referenced until the packet arrives; AFD reads it
	// as input and writes the result into it.
	p := (*byte)(unsafe.Pointer(&r.poll))
	return pending(windows.DeviceIoControl(d.afd, ioctlAFDPoll, p, size, p, size, nil, &r.ov))
}

// pollPacket completes an AFD poll; a multishot poll re-arms unless cancelled.
func (d *Driver) pollPacket(idx int32, s *slot, op *poller.Op, err error) {
	if err != nil {
		d.finish(idx, errRes(err), 0, 0)
		return
	}
	r := s.req
	var a uint32
	if r.poll.NumberOfHandles > 0 {
		a = r.poll.Handles[0].Events
	}
	rev := pollRevents(a, op.Arg)
	if op.Flags&poller.FlagMultishot == 0 {
		d.finish(idx, rev, 0, 0)
		return
	}
	if rev != 0 {
		d.post(idx, rev, 0, 0)
	}
	if s.flags&fCancelled != 0 {
		d.finish(idx, resCanceled, 0, 0)
		return
	}
	if a&afdPollLocalClose != 0 {
		d.finish(idx, resBadf, 0, 0)
		return
	}
	d.stats.Rearms++
	if res, done := d.issuePoll(s, op); done {
		d.finish(idx, res, 0, 0)
	}
}
