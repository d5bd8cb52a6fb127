package sqpoll

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	prepareChild()
	goleak.VerifyTestMain(m)
}
