package uring

import (
	"encoding/binary"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Err returns the CQE's failure as a bare syscall.Errno (-Res), or nil when
// Res is a result. Errno values box without allocating.
func (c CQE) Err() error {
	if c.Res >= 0 {
		return nil
	}
	return syscall.Errno(-c.Res)
}

// BufID returns the provided buffer the kernel used; it is meaningful only
// when Flags.HasBuffer().
func (c CQE) BufID() uint16 { return c.Flags.BufID() }

// More reports whether the request will post more CQEs (multishot, or a
// SendZC result awaiting its notification). A multishot stream ends with
// the first CQE without it.
func (f CQEFlags) More() bool { return f&CQEFlagMore != 0 }

// HasBuffer reports whether the CQE carries a provided buffer ID.
func (f CQEFlags) HasBuffer() bool { return f&CQEFlagBuffer != 0 }

// BufID returns the buffer ID in the upper 16 bits.
func (f CQEFlags) BufID() uint16 { return uint16(f >> cqeBufferShift) }

// BufMore reports whether the kernel keeps the buffer for more data
// (incremental consumption, BufRingInc): do not recycle it yet.
func (f CQEFlags) BufMore() bool { return f&CQEFlagBufMore != 0 }

// SockNonempty reports whether more data was waiting after the receive.
func (f CQEFlags) SockNonempty() bool { return f&CQEFlagSockNonempty != 0 }

// Notif reports whether the CQE is a SendZC notification: the kernel no
// longer reads the send buffer.
func (f CQEFlags) Notif() bool { return f&CQEFlagNotif != 0 }

// RecvmsgMsg is one message received by a multishot recvmsg, as laid out
// in its provided buffer: a RecvmsgOut header, the name area, the control
// area, then the payload. The slices alias the buffer.
type RecvmsgMsg struct {
	Out     RecvmsgOut
	Name    []byte // the source address, truncated to the room the msghdr gave
	Control []byte // control messages (parse with unix.ParseSocketControlMessage)
	Payload []byte // the payload bytes that fit; Out.PayloadLen may be larger
}

// recvmsgOutSize is the size of the header at the start of each buffer.
const recvmsgOutSize = int(unsafe.Sizeof(RecvmsgOut{}))

// ParseRecvmsgOut splits buf, a provided buffer sliced to the CQE's Res,
// filled by PrepRecvmsgMultishot with msg. It reports false when buf is too
// short for the layout msg implies.
func ParseRecvmsgOut(buf []byte, msg *unix.Msghdr) (RecvmsgMsg, bool) {
	if len(buf) < recvmsgOutSize || uint64(msg.Namelen) > uint64(len(buf)-recvmsgOutSize) ||
		uint64(msg.Controllen) > uint64(len(buf)-recvmsgOutSize)-uint64(msg.Namelen) {
		return RecvmsgMsg{}, false // compared unsigned: a huge length never wraps negative
	}
	nameRoom, ctlRoom := int(msg.Namelen), int(msg.Controllen)
	ne := binary.NativeEndian
	m := RecvmsgMsg{Out: RecvmsgOut{
		NameLen:    ne.Uint32(buf[0:]),
		ControlLen: ne.Uint32(buf[4:]),
		PayloadLen: ne.Uint32(buf[8:]),
		Flags:      ne.Uint32(buf[12:]),
	}}
	name := buf[recvmsgOutSize : recvmsgOutSize+nameRoom]
	m.Name = name[:min(int(m.Out.NameLen), nameRoom)]
	ctl := buf[recvmsgOutSize+nameRoom : recvmsgOutSize+nameRoom+ctlRoom]
	m.Control = ctl[:min(int(m.Out.ControlLen), ctlRoom)]
	m.Payload = buf[recvmsgOutSize+nameRoom+ctlRoom:]
	return m, true
}
