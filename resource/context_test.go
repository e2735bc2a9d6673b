package resource_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/resdll/resdll/resource"
)

type hookCounter struct{ progress, noTimeout int }

func (h *hookCounter) Progress()           { h.progress++ }
func (h *hookCounter) WaitWithoutTimeout() { h.noTimeout++ }

// R12, R13: the worker-context helpers reach the engine's hooks, and are
// harmless outside a worker.
func TestWorkerHooks(t *testing.T) {
	assert.False(t, Progress(context.Background()))
	assert.False(t, WaitWithoutTimeout(context.Background()))

	h := &hookCounter{}
	ctx, cancel := context.WithCancel(WithWorkerHooks(context.Background(), h))
	defer cancel()
	assert.True(t, Progress(ctx))
	assert.True(t, Progress(ctx))
	assert.True(t, WaitWithoutTimeout(ctx))
	assert.Equal(t, 2, h.progress)
	assert.Equal(t, 1, h.noTimeout)
}

func TestDurationOption(t *testing.T) {
	const def = 180 * time.Second
	tests := []struct {
		name           string
		v              time.Duration
		never, noDelay bool
		want           time.Duration
		bad            bool
	}{
		{name: "zero is the default", v: 0, want: def},
		{name: "positive is itself", v: time.Second, want: time.Second},
		{name: "Never where allowed", v: Never, never: true, want: Never},
		{name: "Never where not allowed", v: Never, bad: true},
		{name: "NoDelay where allowed", v: NoDelay, noDelay: true, want: 0},
		{name: "NoDelay where not allowed", v: NoDelay, never: true, bad: true},
		{name: "other negative", v: -time.Second, never: true, noDelay: true, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DurationOption("PendingTimeout", tt.v, def, tt.never, tt.noDelay)
			if tt.bad {
				require.ErrorIs(t, err, ErrInvalidOption)
				assert.Contains(t, err.Error(), "PendingTimeout")
				assert.Contains(t, err.Error(), "allowed")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := DurationOption("RestartDelay", -5, def, true, true)
	assert.True(t, errors.Is(err, ErrInvalidOption))
	assert.Contains(t, err.Error(), "resource.Never")
	assert.Contains(t, err.Error(), "resource.NoDelay")
}
