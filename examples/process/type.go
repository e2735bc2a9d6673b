//go:build linux

package process

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// TypeName is the name of the resource type [NewType] returns.
const TypeName = "Process"

// ReadyPollInterval is how often Online looks for the ReadyFile.
const ReadyPollInterval = 50 * time.Millisecond

// KillWait is how long Close, and an Online that fails after the start,
// wait for a killed process to exit before they give up on it.
const KillWait = 5 * time.Second

// ErrDetached is returned by Online and IsAlive after [Process.Detach].
var ErrDetached = errors.New("process: detached from its process")

// Options configure the type.
type Options struct {
	// Clock times the ReadyFile poll, StartGrace and KillWait; nil means
	// the real clock.
	Clock clock.Clock
	// Logger receives starts, exits, adoptions and stops, with the fields
	// resource, op and err; nil discards.
	Logger *slog.Logger
}

// Type returns the Process resource type with the default options.
func Type() *resource.Type { return NewType(Options{}) }

// NewType returns the Process resource type: its schema is [Schema], and
// its factory opens a [*Process] with [New].
func NewType(opts Options) *resource.Type {
	t, err := resource.NewType(TypeName, schema, func(_ context.Context, name string, vals properties.Values) (resource.Resource, error) {
		return New(name, vals, opts)
	})
	if err != nil {
		panic("process: " + err.Error()) // unreachable: the name and the factory are fixed
	}
	return t
}

// New opens a resource named name with the property values vals (R40); the
// schema's defaults fill in the rest. Bad values give an error naming each
// property at fault, wrapping resource.ErrNotConfigured and
// properties.ErrInvalid. New starts nothing.
func New(name string, vals properties.Values, opts Options) (*Process, error) {
	cfg, err := parseConfig(vals)
	if err != nil {
		return nil, err
	}
	p := &Process{name: name, clock: opts.Clock, log: opts.Logger, cfg: cfg}
	if p.clock == nil {
		p.clock = clock.New()
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("resource", name)
	return p, nil
}
