package resource_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
	. "github.com/resdll/resdll/resource"
)

// full implements Resource and every optional interface.
type full struct {
	name   string
	vals   properties.Values
	closed int
}

func (*full) Online(context.Context) error                             { return nil }
func (*full) Offline(context.Context) error                            { return nil }
func (*full) IsAlive(context.Context) error                            { return nil }
func (*full) LooksAlive(context.Context) error                         { return nil }
func (*full) Terminate(context.Context) error                          { return nil }
func (*full) SetFailureReporter(ReportFunc)                            {}
func (*full) ApplyProperties(context.Context, properties.Values) error { return nil }
func (*full) Control(context.Context, ControlCode, []byte) ([]byte, error) {
	return nil, ErrUnsupported
}
func (f *full) Close() error { f.closed++; return nil }

func openFull(_ context.Context, name string, vals properties.Values) (Resource, error) {
	return &full{name: name, vals: vals}, nil
}

var schema = properties.MustSchema(
	properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(25)},
	properties.Property{Name: "Server", Kind: properties.String},
)

// R41: Open hands back the author's Resource itself; every optional
// interface is still found by type assertion. R40: the factory gets the name
// and the values, with the schema's defaults filled in.
func TestOpenReturnsAuthorsResource(t *testing.T) {
	typ, err := NewType("SMTP", schema, openFull)
	require.NoError(t, err)
	assert.Equal(t, "SMTP", typ.Name())
	assert.Same(t, schema, typ.Schema())

	var vals properties.Values
	require.NoError(t, vals.Set("Server", "EVS1"))
	res, release, err := typ.Open(context.Background(), "SMTP-1", vals)
	require.NoError(t, err)
	f, ok := res.(*full)
	require.True(t, ok, "Open must not wrap the resource")
	assert.Equal(t, "SMTP-1", f.name)
	port, err := f.vals.GetUint32("Port")
	require.NoError(t, err)
	assert.Equal(t, uint32(25), port, "default filled in")
	server, err := f.vals.GetString("Server")
	require.NoError(t, err)
	assert.Equal(t, "EVS1", server)

	_, ok = res.(LooksAliver)
	assert.True(t, ok, "LooksAliver")
	_, ok = res.(Terminator)
	assert.True(t, ok, "Terminator")
	_, ok = res.(FailureNotifier)
	assert.True(t, ok, "FailureNotifier")
	_, ok = res.(Controller)
	assert.True(t, ok, "Controller")
	_, ok = res.(PropertyOwner)
	assert.True(t, ok, "PropertyOwner")
	_, ok = res.(io.Closer)
	assert.True(t, ok, "io.Closer")

	assert.Equal(t, 1, typ.Refs())
	require.NoError(t, release())
	assert.Equal(t, 0, typ.Refs())
}

type counters struct {
	loads, unloads atomic.Int32
	live           atomic.Int32 // loaded and not unloaded: 0 or 1
}

func sharedType(t testing.TB, c *counters, open SharedFactory[*counters]) *Type {
	t.Helper()
	typ, err := NewSharedType("IMAP", nil, Shared[*counters]{
		Load: func(context.Context) (*counters, error) {
			c.loads.Add(1)
			if c.live.Add(1) != 1 {
				return nil, errors.New("shared state loaded twice")
			}
			return c, nil
		},
		Unload: func(s *counters) error {
			if s != c {
				return errors.New("unloaded the wrong state")
			}
			c.unloads.Add(1)
			c.live.Add(-1)
			return nil
		},
	}, open)
	require.NoError(t, err)
	return typ
}

func openShared(_ context.Context, s *counters, name string, _ properties.Values) (Resource, error) {
	if s.live.Load() != 1 {
		return nil, fmt.Errorf("%s opened without its shared state", name)
	}
	return &full{name: name}, nil
}

// R41: shared state is loaded on the first Open and released after the last
// release, and the count is exact under many concurrent Opens and releases.
func TestSharedStateRefCount(t *testing.T) {
	var c counters
	typ := sharedType(t, &c, openShared)
	ctx := context.Background()

	// One resource held throughout: the state loads once and stays.
	_, keep, err := typ.Open(ctx, "keep", properties.Values{})
	require.NoError(t, err)

	const goroutines, rounds = 32, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				_, release, err := typ.Open(ctx, fmt.Sprintf("r%d-%d", g, i), properties.Values{})
				if !assert.NoError(t, err) {
					return
				}
				assert.NoError(t, release())
				assert.NoError(t, release(), "R42: a second release is a no-op")
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), c.loads.Load(), "loaded once while a resource stays open")
	assert.Equal(t, int32(0), c.unloads.Load())
	assert.Equal(t, 1, typ.Refs())

	require.NoError(t, keep())
	assert.Equal(t, 0, typ.Refs())
	assert.Equal(t, int32(1), c.unloads.Load(), "unloaded after the last release")
	assert.Equal(t, int32(0), c.live.Load())

	// Without a resource held, the state may load and unload many times,
	// but never twice at once, and ends unloaded.
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				_, release, err := typ.Open(ctx, fmt.Sprintf("s%d-%d", g, i), properties.Values{})
				if assert.NoError(t, err) {
					assert.NoError(t, release())
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 0, typ.Refs())
	assert.Equal(t, c.loads.Load(), c.unloads.Load())
	assert.Equal(t, int32(0), c.live.Load())
}

// R40: a failed or panicking factory leaves nothing: the reference is given
// back and the shared state unloaded.
func TestOpenFailureLeavesNothing(t *testing.T) {
	boom := errors.New("no such virtual server")
	for _, tt := range []struct {
		name string
		open SharedFactory[*counters]
		is   error
	}{
		{"error", func(context.Context, *counters, string, properties.Values) (Resource, error) { return nil, boom }, boom},
		{"panic", func(context.Context, *counters, string, properties.Values) (Resource, error) { panic("factory bug") }, ErrPanic},
		{"nil resource", func(context.Context, *counters, string, properties.Values) (Resource, error) { return nil, nil }, ErrInvalidOption},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c counters
			typ := sharedType(t, &c, tt.open)
			res, release, err := typ.Open(context.Background(), "HTTP-1", properties.Values{})
			require.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), `"HTTP-1"`)
			assert.Nil(t, res)
			assert.Nil(t, release)
			assert.Equal(t, 0, typ.Refs())
			assert.Equal(t, int32(1), c.unloads.Load())
			assert.Equal(t, int32(0), c.live.Load())
		})
	}
}

// R41: a failing Load fails the Open and the next Open tries again.
func TestSharedLoadFailure(t *testing.T) {
	fail := true
	typ, err := NewSharedType("MTA", nil, Shared[int]{
		Load: func(context.Context) (int, error) {
			if fail {
				return 0, errors.New("helper DLL missing")
			}
			return 7, nil
		},
	}, func(_ context.Context, s int, name string, _ properties.Values) (Resource, error) {
		return &full{name: fmt.Sprint(name, s)}, nil
	})
	require.NoError(t, err)
	_, _, err = typ.Open(context.Background(), "mta", properties.Values{})
	require.ErrorContains(t, err, "helper DLL missing")
	assert.Equal(t, 0, typ.Refs())
	fail = false
	res, release, err := typ.Open(context.Background(), "mta", properties.Values{})
	require.NoError(t, err)
	assert.Equal(t, "mta7", res.(*full).name)
	require.NoError(t, release())
}

// R41: an Open waiting for another's Load gives up with its context.
func TestOpenHonoursContext(t *testing.T) {
	loading := make(chan struct{})
	unblock := make(chan struct{})
	typ, err := NewSharedType("slow", nil, Shared[int]{
		Load: func(context.Context) (int, error) { close(loading); <-unblock; return 1, nil },
	}, func(context.Context, int, string, properties.Values) (Resource, error) { return &full{}, nil })
	require.NoError(t, err)
	done := make(chan Release)
	go func() {
		_, release, err := typ.Open(context.Background(), "first", properties.Values{})
		assert.NoError(t, err)
		done <- release
	}()
	<-loading
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = typ.Open(ctx, "second", properties.Values{})
	assert.ErrorIs(t, err, context.Canceled)
	close(unblock)
	release := <-done
	assert.NoError(t, release())
}

// Bad input: each is a clear error, nothing panics.
func TestNewTypeBadInput(t *testing.T) {
	_, err := NewType("", nil, openFull)
	assert.ErrorIs(t, err, ErrInvalidOption)
	assert.ErrorContains(t, err, "name is empty")
	_, err = NewType(" padded", nil, openFull)
	assert.ErrorContains(t, err, "printable")
	_, err = NewType("SMTP", nil, nil)
	assert.ErrorContains(t, err, "factory is nil")
	_, err = NewSharedType[int]("x", nil, Shared[int]{}, nil)
	assert.ErrorContains(t, err, "factory is nil")
	assert.ErrorContains(t, err, "Shared.Load is nil")

	var nilType *Type
	_, _, err = nilType.Open(context.Background(), "r", properties.Values{})
	assert.ErrorIs(t, err, ErrInvalidOption)
	_, _, err = (&Type{}).Open(context.Background(), "r", properties.Values{})
	assert.ErrorIs(t, err, ErrInvalidOption)
}

func TestRegistry(t *testing.T) {
	var r Registry
	smtp, err := NewType("SMTP", nil, openFull)
	require.NoError(t, err)
	imap, err := NewType("IMAP", nil, openFull)
	require.NoError(t, err)
	require.NoError(t, r.Register(smtp))
	require.NoError(t, r.Register(imap))
	dup, err := NewType("smtp", nil, openFull)
	require.NoError(t, err)
	err = r.Register(dup)
	require.ErrorIs(t, err, ErrInvalidOption)
	assert.ErrorContains(t, err, `"smtp" is already registered as "SMTP"`)
	assert.ErrorIs(t, r.Register(nil), ErrInvalidOption)

	got, ok := r.Lookup("SMTP")
	assert.True(t, ok)
	assert.Same(t, smtp, got)
	_, ok = r.Lookup("POP3")
	assert.False(t, ok)
	assert.Equal(t, []string{"IMAP", "SMTP"}, r.Names())
}
