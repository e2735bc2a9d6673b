package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// update rewrites the golden file: go test ./examples/exchange -update
var update = flag.Bool("update", false, "rewrite testdata/exchange.golden from this run")

// The mock-clock run, in a synctest bubble so that "what a clock step woke
// has finished" is exact, matches the golden timeline and summary. Review
// output changes with -update and git diff.
func TestExchangeGolden(t *testing.T) {
	var out strings.Builder
	synctest.Test(t, func(t *testing.T) {
		d := &mockDriver{clk: clock.NewMock(), settle: synctest.Wait}
		require.NoError(t, run(&out, d))
	})
	golden := filepath.Join("testdata", "exchange.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(out.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), out.String(), "the story changed: review it, then go test ./examples/exchange -update")

	got := out.String()
	for _, line := range []string{
		// R12: the Store mounts for 4 minutes, beyond its 3-minute
		// PendingTimeout, without failing.
		"04:00.0  Store  OnlinePending → Online",
		// R61: the cluster's own stop of SMTPSVC is undone by the other
		// instance's check, which stays Online.
		"SMTP-1's check found SMTPSVC stopped by the cluster and started it again; bits set: SMTP-1; SMTP-1 stayed Online",
		// R62: an administrator's stop fails the checks and the monitor restarts.
		"SMTP-1 Online → Failed  — service SMTPSVC stopped outside the cluster",
		"the monitor restarted both SMTP virtual servers; SMTPSVC runs with bits SMTP-1, SMTP-2",
		// R16: the hung dismount is terminated.
		"Store  OfflinePending → Offline (forced)",
		// R31, R71: restarted twice, then the group's failover.
		"MTA    FailoverRequested: group EVS1",
		"MTA    GroupReadyToMove: group EVS1",
		// R55: drift found and reconciled.
		"drift on SMTP-1: Port is 587 in the cluster database, 465 on the server",
	} {
		assert.Contains(t, got, line)
	}
}

// R60, R61, R62: the shared protocol service, directly.
func TestSharedService(t *testing.T) {
	ctx := context.Background()
	srv := newServer(clock.NewMock())
	a := &virtualServer{s: srv, svcName: "SMTPSVC", name: "SMTP-1", stopAll: true}
	b := &virtualServer{s: srv, svcName: "SMTPSVC", name: "SMTP-2", stopAll: true}
	// R60: the first Online starts the service; each sets its bit.
	require.NoError(t, a.Online(ctx))
	require.NoError(t, b.Online(ctx))
	assert.True(t, srv.running("SMTPSVC"))
	assert.Equal(t, []string{"SMTP-1", "SMTP-2"}, srv.bitsOf("SMTPSVC"))
	// R61: b offline stops the whole service, recorded as the cluster's;
	// a's check starts it again with its bit and passes.
	require.NoError(t, b.Offline(ctx))
	assert.False(t, srv.running("SMTPSVC"))
	require.NoError(t, a.IsAlive(ctx))
	assert.True(t, srv.running("SMTPSVC"))
	assert.Equal(t, []string{"SMTP-1"}, srv.bitsOf("SMTPSVC"))
	assert.Error(t, b.IsAlive(ctx), "b's bit is off")
	// R62: a stop from outside is not recorded: the check fails.
	srv.adminStop("SMTPSVC")
	err := a.IsAlive(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outside the cluster")
	// IMAP's offline stops only its own virtual server.
	i1 := &virtualServer{s: srv, svcName: "IMAP4SVC", name: "IMAP-1"}
	i2 := &virtualServer{s: srv, svcName: "IMAP4SVC", name: "IMAP-2"}
	require.NoError(t, i1.Online(ctx))
	require.NoError(t, i2.Online(ctx))
	require.NoError(t, i2.Offline(ctx))
	assert.True(t, srv.running("IMAP4SVC"))
	assert.NoError(t, i1.IsAlive(ctx))
}

// The Store declares it waits without a time-out while it mounts (R12), and
// a service that is gone says ErrNotRunning (R7).
func TestWinService(t *testing.T) {
	clk := clock.NewMock()
	srv := newServer(clk)
	sa := &winService{s: srv, name: "MSExchangeSA"}
	assert.ErrorIs(t, sa.IsAlive(context.Background()), resource.ErrNotRunning)
	require.NoError(t, sa.Online(context.Background()))
	assert.NoError(t, sa.IsAlive(context.Background()))

	store := &winService{s: srv, name: "MSExchangeIS", mount: time.Minute}
	exempt := make(chan struct{}, 1)
	ctx := resource.WithWorkerHooks(context.Background(), hooks{exempt})
	synctest.Test(t, func(t *testing.T) {
		done := make(chan error, 1)
		go func() { done <- store.Online(ctx) }()
		<-exempt
		// The mount's timer is made after the exemption is declared:
		// advancing the mock clock before it exists would leave Online
		// waiting for ever (seen under -race -count=20).
		synctest.Wait()
		clk.Add(time.Minute)
		require.NoError(t, <-done)
	})
	assert.NoError(t, store.IsAlive(context.Background()))

	var v properties.Values
	require.NoError(t, srv.Push(context.Background(), "Store", v))
}

type hooks struct{ exempt chan struct{} }

func (hooks) Progress()             {}
func (h hooks) WaitWithoutTimeout() { h.exempt <- struct{}{} }
