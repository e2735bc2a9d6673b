package resourcetest

import "strings"

// GoroutinesIn returns the stacks of the goroutines that are running, or
// were started by, code whose import path starts with one of prefixes,
// leaving out test code (_test.go files) and the calling goroutine. Called
// in a testing/synctest bubble, it sees only the goroutines of that bubble. Tests use it to show that
// something owns no goroutine at rest, or left none behind: unlike a count
// of all goroutines, it does not see the test binary's own come and go.
func GoroutinesIn(prefixes ...string) []string {
	blocks := allStacks()
	bubble := bubbleOf(blocks[0]) // the first is the caller's own
	var out []string
	for _, g := range blocks[1:] {
		if bubbleOf(g) == bubble && ours(g, prefixes) {
			out = append(out, g)
		}
	}
	return out
}

// bubbleOf returns the "synctest bubble N" a goroutine's header names, or
// "" outside bubbles: called in a bubble, GoroutinesIn sees only its
// bubble, not what other tests leave ending.
func bubbleOf(stack string) string {
	header, _, _ := strings.Cut(stack, "\n")
	_, b, ok := strings.Cut(header, "synctest bubble ")
	if !ok {
		return ""
	}
	if i := strings.IndexFunc(b, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		b = b[:i]
	}
	return b
}

func ours(stack string, prefixes []string) bool {
	lines := strings.Split(stack, "\n")
	for i, line := range lines {
		// A function line is followed by its file line; skip frames of
		// test code.
		if i+1 < len(lines) && strings.Contains(lines[i+1], "_test.go:") {
			continue
		}
		if strings.Contains(line, "_test.go:") {
			continue
		}
		for _, p := range prefixes {
			if strings.Contains(line, p) && !strings.Contains(line, p+"_test.") {
				return true
			}
		}
	}
	return false
}
