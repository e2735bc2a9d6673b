package wsfc

import (
	"context"
	"log/slog"
	"testing"
)

// Records become one LogEvent line each: the message, then the attributes
// (groups dotted), at the LOG_LEVEL of their level.
func TestLogHandler(t *testing.T) {
	mon := newMonitor()
	log := slog.New(NewLogHandler(mon, 9, slog.LevelDebug)).With("resource", "web").WithGroup("op")
	log.Debug("debug", "n", 1)
	log.Info("online", "took", "2s")
	log.Warn("slow", "pct", 90)
	log.Error("failed", "err", "boom")
	log.Log(context.Background(), slog.LevelError+4, "panic")
	want := []logLine{
		{9, LogInformation, "debug resource=web op.n=1"},
		{9, LogInformation, "online resource=web op.took=2s"},
		{9, LogWarning, "slow resource=web op.pct=90"},
		{9, LogError, "failed resource=web op.err=boom"},
		{9, LogSevere, "panic resource=web"},
	}
	got := mon.logged()
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	quiet := slog.New(NewLogHandler(mon, 9, nil))
	quiet.Debug("dropped")
	if quiet.Enabled(context.Background(), slog.LevelDebug) || !quiet.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("the default level is not Info")
	}
	if len(mon.logged()) != len(want) {
		t.Error("a record below the level reached LogEvent")
	}
	// A LogEvent that panics does not take the caller down.
	slog.New(NewLogHandler(panicLogMonitor{mon}, 1, nil)).Info("still here")
}

func TestLevelNames(t *testing.T) {
	for l, want := range map[LogLevel]string{LogInformation: "LOG_INFORMATION", LogWarning: "LOG_WARNING", LogError: "LOG_ERROR", LogSevere: "LOG_SEVERE", 7: "LogLevel(7)"} {
		if l.String() != want {
			t.Errorf("%d: %q", l, l.String())
		}
	}
}
