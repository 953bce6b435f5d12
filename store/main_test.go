package store_test

import (
	"testing"

	"github.com/sunsetops/sunset/internal/testenv"
)

// TestMain says, when the tests end, which suites were skipped here and why.
func TestMain(m *testing.M) { testenv.Main(m) }
