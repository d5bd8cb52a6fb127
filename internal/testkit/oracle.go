package testkit

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
)

// The data oracle (docs/RELIABILITY.md, "The harness"): a seeded stream of frames, each
// with a sequence number and a checksum, that the receiver verifies as it arrives, so
// that a byte lost, duplicated, reordered or corrupted anywhere between the two ends
// is caught, and named by the frame it hit.
//
// A frame is: seq (uint32), payload length (uint16), payload (pseudo-random, from the
// stream's seed and seq), CRC-32C of the previous fields (uint32), little-endian.

const frameHeader = 6

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Stream produces a seeded frame stream. It is used by one goroutine.
type Stream struct {
	seed    uint64
	maxLen  int
	seq     uint32
	pending []byte // produced, not yet read
	rng     *rand.Rand
}

// NewStream returns the stream of the given seed, with payloads of 0 to maxLen bytes
// (at most 65535).
func NewStream(seed uint64, maxLen int) *Stream {
	return &Stream{seed: seed, maxLen: min(maxLen, 65535), rng: rand.New(rand.NewPCG(seed, 1))}
}

// frame appends frame seq of the stream to b.
func frame(b []byte, seed uint64, seq uint32, n int) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	r := rand.New(rand.NewPCG(seed, uint64(seq)))
	for i := 0; i < n; i++ {
		b = append(b, byte(r.Uint32()))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// Read fills p with the next bytes of the stream; it never fails.
func (s *Stream) Read(p []byte) (int, error) {
	for len(s.pending) < len(p) {
		s.pending = frame(s.pending, s.seed, s.seq, s.rng.IntN(s.maxLen+1))
		s.seq++
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	if len(s.pending) == 0 {
		s.pending = s.pending[:0:0]
	}
	return n, nil
}

// Checker verifies a stream made by NewStream with the same seed, as its bytes
// arrive in pieces of any size. It is used by one goroutine.
type Checker struct {
	seed  uint64
	seq   uint32 // the next frame expected
	buf   []byte // bytes of the frame being assembled
	bytes int64
	err   error
}

// NewChecker returns a checker for the stream of seed.
func NewChecker(seed uint64) *Checker { return &Checker{seed: seed} }

// Write checks p, the next bytes received. After the first mismatch it keeps
// returning the error that describes it.
func (c *Checker) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.buf = append(c.buf, p...)
	for len(c.buf) >= frameHeader {
		n := int(binary.LittleEndian.Uint16(c.buf[4:]))
		size := frameHeader + n + 4
		if len(c.buf) < size {
			break
		}
		got := c.buf[:size]
		seq := binary.LittleEndian.Uint32(got)
		sum := binary.LittleEndian.Uint32(got[size-4:])
		switch {
		case crc32.Checksum(got[:size-4], castagnoli) != sum:
			c.err = fmt.Errorf("oracle: corrupt frame at byte %d (expected frame %d)", c.bytes, c.seq)
		case seq < c.seq:
			c.err = fmt.Errorf("oracle: frame %d again at byte %d (expected frame %d): duplicated or reordered", seq, c.bytes, c.seq)
		case seq > c.seq:
			c.err = fmt.Errorf("oracle: frame %d at byte %d, expected frame %d: %d frame(s) lost or reordered", seq, c.bytes, c.seq, seq-c.seq)
		case string(frame(nil, c.seed, seq, n)) != string(got):
			c.err = fmt.Errorf("oracle: frame %d at byte %d has the wrong payload", seq, c.bytes)
		}
		if c.err != nil {
			return 0, c.err
		}
		c.seq++
		c.bytes += int64(size)
		c.buf = c.buf[size:]
	}
	if len(c.buf) == 0 {
		c.buf = c.buf[:0:0]
	}
	return len(p), nil
}

// Verified returns the number of bytes in complete, verified frames.
func (c *Checker) Verified() int64 { return c.bytes }

// Done checks that exactly total bytes arrived: verified frames, then the start of
// the next one where the sender stopped inside it.
func (c *Checker) Done(total int64) error {
	if c.err != nil {
		return c.err
	}
	if got := c.bytes + int64(len(c.buf)); got != total {
		return fmt.Errorf("oracle: %d bytes arrived, %d sent", got, total)
	}
	var want []byte
	if len(c.buf) >= frameHeader {
		want = frame(nil, c.seed, c.seq, int(binary.LittleEndian.Uint16(c.buf[4:])))
	} else {
		want = binary.LittleEndian.AppendUint32(nil, c.seq)
	}
	if k := min(len(c.buf), len(want)); string(c.buf[:k]) != string(want[:k]) {
		return fmt.Errorf("oracle: the last %d bytes are not the start of frame %d", len(c.buf), c.seq)
	}
	return nil
}
