//go:build !unix

package rusage

import "time"

// CPUTime is not measured off Unix: the CPU figures read 0.
func CPUTime() time.Duration { return 0 }
