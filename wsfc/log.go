package wsfc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
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
	if minLevel == nil {
		minLevel = slog.LevelInfo
	}
	return &logHandler{mon: mon, h: h, min: minLevel}
}

type logHandler struct {
	mon Monitor
	h   ResourceHandle
	min slog.Leveler
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
			err = fmt.Errorf("wsfc: LogEvent panicked: %v", v) // slog drops it; the caller goes on
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
	l.mon.LogEvent(l.h, levelOf(r.Level), msg)
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
