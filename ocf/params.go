package ocf

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/resdll/resdll/properties"
)

// How a parameter's text becomes a value of its property's kind. Pacemaker
// passes every parameter as text, in an environment variable; this is the
// syntax each kind accepts (and the form meta-data writes defaults in):
//
//	string        the text as it is
//	multi-string  words separated by white space ("/bin/sleep 1000"), or,
//	              when the text starts with "[", a JSON array of strings
//	              (["/bin/sh", "-c", "exec sleep 1000"]), for strings that
//	              hold spaces
//	int64, uint32, uint64
//	              a whole number in decimal
//	bool          true, yes, on, y, 1 or false, no, off, n, 0, in any case
//	              (Pacemaker's spellings)
//	duration      Go's form ("1m30s", "250ms"), a number with one of
//	              Pacemaker's units (ms, msec, us, usec, s, sec, m, min, h,
//	              hr), or a bare whole number of seconds, as Pacemaker reads
//	              a time without a unit
//	binary        base64 text (standard alphabet, padded)

// kindSyntax says what text a kind accepts, for errors and meta-data.
func kindSyntax(k properties.Kind) string {
	switch k {
	case properties.String:
		return "text"
	case properties.MultiString:
		return `a list: words separated by white space, or a JSON array of strings such as ["/bin/sh", "-c", "exec sleep 1000"] for strings that hold spaces`
	case properties.Int64:
		return "a whole number from -9223372036854775808 to 9223372036854775807"
	case properties.Uint32:
		return "a whole number from 0 to 4294967295"
	case properties.Uint64:
		return "a whole number from 0 to 18446744073709551615"
	case properties.Bool:
		return "true or false (also yes/no, on/off, y/n, 1/0)"
	case properties.Duration:
		return `a duration such as 30s, 1m30s, 250ms or 5min; a bare whole number is seconds`
	case properties.Binary:
		return "base64 text (standard alphabet, padded)"
	}
	return "a value of one of the eight property kinds"
}

// parseValue reads text as a value of kind k. Its error is a
// *properties.PropertyError without a name, saying what was wrong and what
// is allowed.
func parseValue(k properties.Kind, text string) (any, error) {
	bad := func(problem string) error {
		return &properties.PropertyError{Problem: problem, Allowed: kindSyntax(k)}
	}
	if !utf8.ValidString(text) {
		return nil, bad("is not valid UTF-8")
	}
	switch k {
	case properties.String:
		return text, nil
	case properties.MultiString:
		t := strings.TrimSpace(text)
		if !strings.HasPrefix(t, "[") {
			return strings.Fields(t), nil
		}
		var list []string
		if err := json.Unmarshal([]byte(t), &list); err != nil {
			return nil, bad(fmt.Sprintf("%q starts with [ but is not a JSON array of strings: %v", text, err))
		}
		if list == nil {
			list = []string{} // "null" is no list; "[]" the empty one
		}
		return list, nil
	case properties.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, bad(fmt.Sprintf("%q is not a whole number in range", text))
		}
		return n, nil
	case properties.Uint32:
		n, err := strconv.ParseUint(text, 10, 32)
		if err != nil {
			return nil, bad(fmt.Sprintf("%q is not a whole number in range", text))
		}
		return uint32(n), nil
	case properties.Uint64:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return nil, bad(fmt.Sprintf("%q is not a whole number in range", text))
		}
		return n, nil
	case properties.Bool:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "true", "yes", "on", "y", "1":
			return true, nil
		case "false", "no", "off", "n", "0":
			return false, nil
		}
		return nil, bad(fmt.Sprintf("%q is not a boolean", text))
	case properties.Duration:
		d, err := parseDuration(text)
		if err != nil {
			return nil, bad(fmt.Sprintf("%q is not a duration", text))
		}
		return d, nil
	case properties.Binary:
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, bad(fmt.Sprintf("is not base64 text: %v", err))
		}
		return b, nil
	}
	return nil, bad("has a kind this agent cannot read")
}

// pacemakerUnits maps Pacemaker's spellings of time units to Go's, longest
// first so that "msec" is not read as "m" followed by "sec".
var pacemakerUnits = []struct{ pcmk, gou string }{
	{"msec", "ms"}, {"usec", "us"}, {"sec", "s"}, {"min", "m"}, {"hr", "h"},
}

// parseDuration reads a duration in Go's form, with one of Pacemaker's
// unit spellings, or as a bare whole number of seconds.
func parseDuration(text string) (time.Duration, error) {
	t := strings.TrimSpace(text)
	if t != "" && strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		s, err := strconv.ParseInt(t, 10, 64)
		if err != nil || s > math.MaxInt64/int64(time.Second) {
			return 0, errors.New("out of range")
		}
		return time.Duration(s) * time.Second, nil
	}
	for _, u := range pacemakerUnits {
		if num, ok := strings.CutSuffix(t, u.pcmk); ok {
			t = strings.TrimSpace(num) + u.gou
			break
		}
	}
	return time.ParseDuration(strings.ReplaceAll(t, " ", ""))
}

// formatValue writes v, a value of kind k, in the syntax parseValue reads.
func formatValue(k properties.Kind, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		plain := len(x) > 0 && !strings.HasPrefix(x[0], "[")
		for _, s := range x {
			if s == "" || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
				plain = false
			}
		}
		if plain {
			return strings.Join(x, " ")
		}
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x) // unreachable: a []string always marshals
		}
		return string(b)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Duration:
		return x.String()
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	return fmt.Sprint(v)
}

// decodeParams reads the parameters of one invocation as property values of
// schema and checks them as a complete set (R52, R59: Schema.ValidateValues),
// reporting every problem at once, each a *properties.PropertyError wrapping
// properties.ErrInvalid that names the parameter: an unknown name, a name
// given twice (names match without regard to case, as in the schema), a
// read-only property, text its kind cannot read, and every problem
// ValidateValues finds (a missing required parameter, a value out of range
// or not allowed, one the property's validator refuses). The values that
// did decode are returned with the error.
func decodeParams(schema *properties.Schema, params []param) (properties.Values, error) {
	var vals properties.Values
	var errs []error
	failed := make(map[string]bool) // declared names whose text was refused here
	given := make(map[string]string)
	for _, p := range params {
		prop, ok := schema.Lookup(p.name)
		if !ok {
			errs = append(errs, &properties.PropertyError{Name: p.name, Problem: "is not a parameter of this agent",
				Allowed: "the parameters its meta-data lists: " + paramNames(schema)})
			continue
		}
		if first, dup := given[prop.Name]; dup {
			errs = append(errs, &properties.PropertyError{Name: p.name, Problem: fmt.Sprintf("is given twice, as %s%s and %s%s",
				envParamPrefix, first, envParamPrefix, p.name), Allowed: "each parameter once"})
			failed[prop.Name] = true
			continue
		}
		given[prop.Name] = p.name
		if prop.ReadOnly {
			errs = append(errs, &properties.PropertyError{Name: p.name, Problem: "is read-only: the resource type sets it",
				Allowed: "leaving it out"})
			failed[prop.Name] = true
			continue
		}
		v, err := parseValue(prop.Kind, p.value)
		if err != nil {
			var pe *properties.PropertyError
			if errors.As(err, &pe) {
				pe.Name = p.name
			}
			errs = append(errs, err)
			failed[prop.Name] = true
			continue
		}
		if err := vals.Set(prop.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("parameter %q: %w", p.name, err)) // unreachable: parseValue gives a kind's Go type
		}
	}
	if err := schema.ValidateValues(vals); err != nil {
		for _, e := range flatten(err) {
			var pe *properties.PropertyError
			if errors.As(e, &pe) {
				if prop, ok := schema.Lookup(pe.Name); ok && failed[prop.Name] {
					continue // reported already: a value refused here is missing there
				}
			}
			errs = append(errs, e)
		}
	}
	return vals, errors.Join(errs...)
}

// flatten lists the errors err joins (errors.Join), or err alone.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// paramNames lists the parameters an administrator may set, for errors.
func paramNames(schema *properties.Schema) string {
	var names []string
	for _, p := range schema.Properties() {
		if !p.ReadOnly {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
