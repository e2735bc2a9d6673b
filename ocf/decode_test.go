package ocf

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// Errors map to the OCF exit codes by the sentinels they wrap.
func TestExitCodeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want ExitCode
	}{
		{nil, ExitSuccess},
		{errors.New("boom"), ExitGenericError},
		{fmt.Errorf("x: %w", resource.ErrPendingTimeout), ExitGenericError},
		{fmt.Errorf("x: %w", resource.ErrNotRunning), ExitGenericError},
		{&properties.PropertyError{Name: "Port", Problem: "is 0"}, ExitNotConfigured},
		{fmt.Errorf("x: %w", resource.ErrNotConfigured), ExitNotConfigured},
		{fmt.Errorf("x: %w", resource.ErrNotInstalled), ExitNotInstalled},
		{fmt.Errorf("x: %w", ErrInvalidArgs), ExitInvalidArgs},
		{fmt.Errorf("x: %w", resource.ErrPermission), ExitPermission},
		{fmt.Errorf("x: %w", resource.ErrUnsupported), ExitUnimplemented},
		{errors.Join(resource.ErrPermission, resource.ErrNotInstalled), ExitNotInstalled},
		{errors.Join(resource.ErrNotInstalled, properties.ErrInvalid), ExitNotConfigured},
	} {
		if got := ExitCodeOf(tc.err); got != tc.want {
			t.Errorf("ExitCodeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// The codes are the OCF standard's numbers, named as it names them.
func TestExitCodeValues(t *testing.T) {
	want := []string{"OCF_SUCCESS", "OCF_ERR_GENERIC", "OCF_ERR_ARGS", "OCF_ERR_UNIMPLEMENTED", "OCF_ERR_PERM",
		"OCF_ERR_INSTALLED", "OCF_ERR_CONFIGURED", "OCF_NOT_RUNNING", "OCF_RUNNING_PROMOTED", "OCF_FAILED_PROMOTED"}
	for i, name := range want {
		if got := ExitCode(i).String(); got != name {
			t.Errorf("ExitCode(%d) = %s, want %s", i, got, name)
		}
	}
	if got := ExitCode(42).String(); got != "exit code 42" {
		t.Errorf("ExitCode(42) = %s", got)
	}
}

// The environment: meta attributes in milliseconds, Pacemaker's own
// variables apart from the parameters, the last of a name winning.
func TestParseEnv(t *testing.T) {
	inv, err := parseEnv([]string{
		"OCF_RESOURCE_INSTANCE=db:1", "OCF_RESKEY_CRM_meta_timeout=20000", "OCF_RESKEY_CRM_meta_interval=10000",
		"OCF_RESKEY_CRM_meta_on_node=n1", "OCF_RESKEY_crm_feature_set=3.16.1", "OCF_RESKEY_b=2", "OCF_RESKEY_a=1",
		"OCF_RESKEY_a=one", "OCF_RESKEY_empty=", "OCF_EXIT_REASON_PREFIX=why:", "PATH=/bin", "junk",
	})
	if err != nil {
		t.Fatal(err)
	}
	if inv.instance != "db:1" || inv.timeout != 20*time.Second || inv.interval != 10*time.Second || inv.reasonPrefix != "why:" {
		t.Errorf("parsed %+v", inv)
	}
	want := []param{{"a", "one"}, {"b", "2"}, {"empty", ""}}
	if !slices.Equal(inv.params, want) {
		t.Errorf("params %v, want %v", inv.params, want)
	}
	for _, bad := range []string{"OCF_RESKEY_CRM_meta_timeout=20s", "OCF_RESKEY_CRM_meta_timeout=-1", "OCF_RESKEY_CRM_meta_interval=1e3",
		"OCF_RESKEY_CRM_meta_timeout=99999999999999999999"} {
		if _, err := parseEnv([]string{bad}); !errors.Is(err, ErrInvalidArgs) || !strings.Contains(err.Error(), strings.Split(bad, "=")[0]) {
			t.Errorf("%s: %v; want ErrInvalidArgs naming the variable", bad, err)
		}
	}
	if inv, _ := parseEnv(nil); inv.timeout != 0 || inv.interval != 0 || inv.reasonPrefix != defaultReasonPrefix {
		t.Errorf("empty environment: %+v", inv)
	}
}

// Each kind reads the text Pacemaker passes (see the comment on
// kindSyntax), and refuses what it cannot read, saying what is allowed.
func TestParseValue(t *testing.T) {
	good := []struct {
		kind properties.Kind
		text string
		want any
	}{
		{properties.String, " a b ", " a b "},
		{properties.String, "", ""},
		{properties.MultiString, "/bin/sleep  1000 ", []string{"/bin/sleep", "1000"}},
		{properties.MultiString, "", []string{}},
		{properties.MultiString, ` ["/bin/sh", "-c", "exec sleep 1"]`, []string{"/bin/sh", "-c", "exec sleep 1"}},
		{properties.MultiString, "[]", []string{}},
		{properties.Int64, "-9223372036854775808", int64(-1 << 63)},
		{properties.Uint32, "4294967295", uint32(1<<32 - 1)},
		{properties.Uint64, "18446744073709551615", uint64(1<<64 - 1)},
		{properties.Bool, "TRUE", true}, {properties.Bool, "yes", true}, {properties.Bool, "on", true}, {properties.Bool, "y", true}, {properties.Bool, "1", true},
		{properties.Bool, "false", false}, {properties.Bool, "No", false}, {properties.Bool, "off", false}, {properties.Bool, "n", false}, {properties.Bool, "0", false},
		{properties.Duration, "1m30s", 90 * time.Second},
		{properties.Duration, "250ms", 250 * time.Millisecond},
		{properties.Duration, "20", 20 * time.Second},
		{properties.Duration, "5min", 5 * time.Minute},
		{properties.Duration, "10 sec", 10 * time.Second},
		{properties.Duration, "1500msec", 1500 * time.Millisecond},
		{properties.Duration, "2hr", 2 * time.Hour},
		{properties.Duration, "7usec", 7 * time.Microsecond},
		{properties.Binary, "3q2+7w==", []byte{0xde, 0xad, 0xbe, 0xef}},
	}
	for _, g := range good {
		v, err := parseValue(g.kind, g.text)
		if err != nil {
			t.Errorf("%v %q: %v", g.kind, g.text, err)
			continue
		}
		if fmt.Sprintf("%#v", v) != fmt.Sprintf("%#v", g.want) {
			t.Errorf("%v %q = %#v, want %#v", g.kind, g.text, v, g.want)
		}
	}
	bad := []struct {
		kind properties.Kind
		text string
	}{
		{properties.String, "a\xffb"},
		{properties.MultiString, `["a", 1]`},
		{properties.MultiString, `[unclosed`},
		{properties.Int64, "9223372036854775808"}, {properties.Int64, "1.5"}, {properties.Int64, ""},
		{properties.Uint32, "4294967296"}, {properties.Uint32, "-1"},
		{properties.Uint64, "18446744073709551616"},
		{properties.Bool, "maybe"}, {properties.Bool, ""},
		{properties.Duration, "soon"}, {properties.Duration, ""}, {properties.Duration, "99999999999999999999"}, {properties.Duration, "9223372037"},
		{properties.Binary, "!!"},
		{properties.KindInvalid, "x"},
	}
	for _, b := range bad {
		_, err := parseValue(b.kind, b.text)
		var pe *properties.PropertyError
		if !errors.As(err, &pe) || pe.Allowed == "" || !errors.Is(err, properties.ErrInvalid) {
			t.Errorf("%v %q: %v; want a PropertyError saying what is allowed", b.kind, b.text, err)
		}
	}
}

// formatValue writes what parseValue reads back (meta-data's defaults).
func TestFormatValueRoundTrip(t *testing.T) {
	for _, v := range []any{
		"text with spaces", []string{"/bin/sleep", "1000"}, []string{"/bin/sh", "-c", "exec sleep 1"}, []string{"[x]"},
		[]string{"a", ""}, []string{}, int64(-42), uint32(7), uint64(1 << 63), true, false,
		90 * time.Second, 1500 * time.Millisecond, time.Duration(0), []byte{0, 1, 2, 255},
	} {
		k, _ := properties.KindOf(v)
		back, err := parseValue(k, formatValue(k, v))
		if err != nil || fmt.Sprintf("%#v", back) != fmt.Sprintf("%#v", v) {
			t.Errorf("%#v → %q → %#v, %v", v, formatValue(k, v), back, err)
		}
	}
	if got := formatValue(properties.MultiString, []string{"/bin/sleep", "1000"}); got != "/bin/sleep 1000" {
		t.Errorf("a plain list is written %q, want words", got)
	}
}

// The budget keeps a margin before Pacemaker's SIGKILL and a share for the
// Terminator (R16).
func TestNewBudget(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		total, margin, terminate time.Duration
		want                     budget
	}{
		{20 * s, 0, 30 * s, budget{total: 20 * s, margin: 2 * s, op: 13500 * time.Millisecond, cleanup: 4500 * time.Millisecond}},
		{3 * s, 0, 30 * s, budget{total: 3 * s, margin: s, op: 1500 * time.Millisecond, cleanup: 500 * time.Millisecond}},
		{s, 0, 30 * s, budget{total: s, margin: s / 2, op: 375 * time.Millisecond, cleanup: 125 * time.Millisecond}},
		{180 * s, 0, 30 * s, budget{total: 180 * s, margin: 18 * s, op: 132 * s, cleanup: 30 * s}},
		{20 * s, 5 * s, 2 * s, budget{total: 20 * s, margin: 5 * s, op: 13 * s, cleanup: 2 * s}},
		{20 * s, time.Minute, 30 * s, budget{total: 20 * s, margin: 10 * s, op: 7500 * time.Millisecond, cleanup: 2500 * time.Millisecond}},
		{0, 0, 30 * s, budget{op: minSlice, cleanup: minSlice}},
	} {
		got := newBudget(tc.total, tc.margin, tc.terminate)
		if got != tc.want {
			t.Errorf("newBudget(%v, %v, %v) = %+v, want %+v", tc.total, tc.margin, tc.terminate, got, tc.want)
		}
		if tc.total > 0 && got.closing() >= got.total {
			t.Errorf("newBudget(%v, …): Close ends at %v, not before the time-out", tc.total, got.closing())
		}
	}
}

// timeoutFor inverts newBudget: the shortest whole-second time-out whose
// budget gives the operation its time.
func TestTimeoutFor(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		op, margin, terminate time.Duration
		want                  time.Duration
	}{
		{20 * s, 0, 30 * s, 30 * s},   // 20.25 s of 30 s; 29 s would give 19.575 s
		{20 * s, 0, 10 * s, 30 * s},   // the example agent's policy
		{180 * s, 0, 30 * s, 234 * s}, // the default policy: 180.6 s of 234 s
		{s, 0, 30 * s, 3 * s},         // 1.5 s of 3 s; 2 s would give 750 ms
		{20 * s, 5 * s, 2 * s, 27 * s},
		{time.Millisecond, 0, 30 * s, s},
		{math.MaxInt64, 0, 30 * s, math.MaxInt64 / s * s}, // none is long enough: the longest
	} {
		got := timeoutFor(tc.op, tc.margin, tc.terminate)
		if got != tc.want {
			t.Errorf("timeoutFor(%v, %v, %v) = %v, want %v", tc.op, tc.margin, tc.terminate, got, tc.want)
		}
	}
}

// Durations are written as Pacemaker reads them.
func TestPacemakerDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "20s", 0: "0s", 210 * time.Second: "210s",
		1500 * time.Millisecond: "1500ms", time.Microsecond: "1ms", 1001 * time.Microsecond: "2ms",
	} {
		if got := pacemakerDuration(d); got != want {
			t.Errorf("pacemakerDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
