package wsfc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
)

// NewLogHandler returns a slog.Handler that writes each record as one line
// through mon's LogEvent for the resource h: the message, then the
// attributes as slog's text handler writes them (key=value, groups as
// dotted keys), without time or level, which LogEvent records itself.
// Records below minLevel are dropped (nil: slog.LevelInfo). The level maps to
// the LOG_LEVEL: below Warn LOG_INFORMATION, below Error LOG_WARNING, below
// Error+4 LOG_ERROR, and LOG_SEVERE from there.
//
// The host gives each resource's wrapper and resource such a logger, so the
// engine's records (fields resource, op, state, err) reach the cluster log.
func NewLogHandler(mon Monitor, h ResourceHandle, minLevel slog.Leveler) slog.Handler {
	return newLineHandler(func(level LogLevel, line string) { mon.LogEvent(h, level, line) }, minLevel)
}

// newLineHandler returns a handler that formats each record as
// NewLogHandler does and hands the line and its LOG_LEVEL to emit.
func newLineHandler(emit func(LogLevel, string), minLevel slog.Leveler) *logHandler {
	if minLevel == nil {
		minLevel = slog.LevelInfo
	}
	return &logHandler{emit: emit, min: minLevel}
}

type logHandler struct {
	emit func(LogLevel, string)
	min  slog.Leveler
	// with replays WithAttrs and WithGroup on the text handler each record
	// is formatted with; it is copied, never appended to in place.
	with []func(slog.Handler) slog.Handler
}

func (l *logHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= l.min.Level()
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("wsfc: writing a log record panicked: %v", v) // slog drops it; the caller goes on
		}
	}()
	var b bytes.Buffer
	var th slog.Handler = slog.NewTextHandler(&b, &slog.HandlerOptions{
		Level: slog.LevelDebug - 100,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		},
	})
	for _, f := range l.with {
		th = f(th)
	}
	if err := th.Handle(ctx, r); err != nil {
		return err
	}
	msg := r.Message
	if attrs := strings.TrimSpace(b.String()); attrs != "" {
		msg += " " + attrs
	}
	l.emit(levelOf(r.Level), msg)
	return nil
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return l.extend(func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	return l.extend(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (l *logHandler) extend(f func(slog.Handler) slog.Handler) *logHandler {
	c := *l
	c.with = append(append([]func(slog.Handler) slog.Handler(nil), l.with...), f)
	return &c
}

// levelOf maps a slog level to a LOG_LEVEL.
func levelOf(l slog.Level) LogLevel {
	switch {
	case l < slog.LevelWarn:
		return LogInformation
	case l < slog.LevelError:
		return LogWarning
	case l < slog.LevelError+4:
		return LogError
	}
	return LogSevere
}

// divertable is a slog.Handler that writes to to until Divert is called,
// and to alt from then on (both nil-safe: a nil handler drops the record).
// Open logs through it to the resource's handle, which the Resource Monitor
// may drop once Open has failed: what a call Open gave up on logs later goes
// to the host's log instead. Handlers derived with WithAttrs and WithGroup
// share the switch.
type divertable struct {
	to, alt  slog.Handler
	diverted *atomic.Bool
}

func newDivertable(to, alt slog.Handler) *divertable {
	return &divertable{to: to, alt: alt, diverted: new(atomic.Bool)}
}

// Divert sends every later record to alt.
func (d *divertable) Divert() { d.diverted.Store(true) }

func (d *divertable) current() slog.Handler {
	if d.diverted.Load() {
		return d.alt
	}
	return d.to
}

func (d *divertable) Enabled(ctx context.Context, level slog.Level) bool {
	h := d.current()
	return h != nil && h.Enabled(ctx, level)
}

func (d *divertable) Handle(ctx context.Context, r slog.Record) error {
	if h := d.current(); h != nil {
		return h.Handle(ctx, r)
	}
	return nil
}

func (d *divertable) WithAttrs(attrs []slog.Attr) slog.Handler {
	return d.derive(func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })
}

func (d *divertable) WithGroup(name string) slog.Handler {
	return d.derive(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (d *divertable) derive(f func(slog.Handler) slog.Handler) *divertable {
	c := &divertable{diverted: d.diverted}
	if d.to != nil {
		c.to = f(d.to)
	}
	if d.alt != nil {
		c.alt = f(d.alt)
	}
	return c
}
