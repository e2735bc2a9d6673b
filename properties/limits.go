package properties

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on what the property path accepts (R59). Names are bounded by
// [MaxNameLength].
const (
	// MaxResourceNameLength is the longest resource name, in bytes, under
	// which values are stored.
	MaxResourceNameLength = 256

	// MaxValueSize is the largest value, in bytes, of a String,
	// MultiString or Binary property (a MultiString counts its strings'
	// bytes plus one per string). [Property.MaxSize] can lower it.
	MaxValueSize = 64 << 10

	// MaxInputSize is the largest JSON document, in bytes, that
	// [Schema.DecodeJSON], [Values.UnmarshalJSON] and the control-code
	// handlers read.
	MaxInputSize = 1 << 20

	// MaxProblems is the number of problems one validation lists; past it,
	// one more error says how many were left out.
	MaxProblems = 100
)

// CheckResourceName reports a resource name that breaks R59's bounds: 1 to
// [MaxResourceNameLength] bytes of printable UTF-8, no spaces at either end.
// The error wraps [ErrInvalid].
func CheckResourceName(name string) error {
	allowed := fmt.Sprint("1 to ", MaxResourceNameLength, " bytes of printable characters without leading or trailing spaces")
	var problem string
	switch {
	case name == "":
		problem = "is empty"
	case len(name) > MaxResourceNameLength:
		problem = fmt.Sprintf("is %d bytes long", len(name))
	case strings.TrimSpace(name) != name:
		problem = "has leading or trailing spaces"
	case !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		problem = "has unprintable characters"
	default:
		return nil
	}
	return fmt.Errorf("%w: resource name %q %s (allowed: %s)", ErrInvalid, shorten(name), problem, allowed)
}

// valueSize is the size R59 bounds: the bytes of a String or Binary, the
// bytes of a MultiString's strings plus one per string; 0 for the other
// kinds.
func valueSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	case []string:
		n := 0
		for _, s := range x {
			n += len(s) + 1
		}
		return n
	}
	return 0
}

// checkText reports a string that cannot be stored as text: invalid UTF-8
// or a NUL character (the Windows registry's REG_SZ and REG_MULTI_SZ end at
// NUL).
func checkText(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL character"
	}
	return ""
}

// limitErrors caps a list of problems at MaxProblems, saying how many were
// left out, and joins them.
func limitErrors(errs []error) error {
	if len(errs) > MaxProblems {
		n := len(errs) - MaxProblems
		errs = append(errs[:MaxProblems:MaxProblems], fmt.Errorf("%w: %d more problems not listed", ErrInvalid, n))
	}
	return errors.Join(errs...)
}

// isUTF8 reports whether s is valid UTF-8.
func isUTF8(s string) bool { return utf8.ValidString(s) }

// clip cuts s to at most n bytes, on a character boundary, and marks the
// cut with "…". It is for long texts kept or shown whole up to a bound (a
// hook's error); [shorten] is the 32-character cut for names in messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	// Back up to the start of a character; at most UTFMax-1 bytes, so
	// that invalid UTF-8 is still cut near n.
	for j := 0; j < utf8.UTFMax-1 && i > 0 && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	return s[:i] + "…"
}

// maxShownValue bounds, in bytes, a value shown in a message, so that a
// 64 KiB value does not make a 64 KiB error.
const maxShownValue = 64

// showValue formats v for a message (as %v does), cut to maxShownValue
// bytes.
func showValue(v any) string { return clip(fmt.Sprint(v), maxShownValue) }
