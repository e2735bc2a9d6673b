//go:build linux

package process

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// The names of the type's private properties (R50).
const (
	PropCommand          = "Command"
	PropStateDir         = "StateDir"
	PropReadyFile        = "ReadyFile"
	PropStartGrace       = "StartGrace"
	PropStopSignal       = "StopSignal"
	PropWorkingDirectory = "WorkingDirectory"
	PropEnvironment      = "Environment"
	PropLogFile          = "LogFile"
)

// MaxStartGrace is the largest StartGrace the schema accepts.
const MaxStartGrace = 10 * time.Minute

// stopSignal returns the signal StopSignal's value names; the schema allows
// only these names.
func stopSignal(name string) syscall.Signal {
	switch name {
	case "INT":
		return syscall.SIGINT
	case "HUP":
		return syscall.SIGHUP
	case "QUIT":
		return syscall.SIGQUIT
	case "USR1":
		return syscall.SIGUSR1
	case "USR2":
		return syscall.SIGUSR2
	}
	return syscall.SIGTERM
}

// schema is the type's private-property schema; immutable.
var schema = properties.MustSchema(
	properties.Property{
		Name: PropCommand, Kind: properties.MultiString, Required: true,
		Description: "The program and its arguments, one string each (no shell).",
		Help: "The first string is the program: an absolute path, or a name looked up in the host's PATH. " +
			"The others are its arguments, passed as they are: no shell parses them. Takes effect at the next Online.",
		Validate: validateCommand,
	},
	properties.Property{
		Name: PropStateDir, Kind: properties.String, Required: true,
		Description: "The directory of the pid file (absolute).",
		Help: "Online writes <StateDir>/<resource name>.pid there (see PidFilePath), creating the directory (mode 0700) " +
			"if needed; a later program finds the running process again through it (R7).",
		Validate: absolutePath(true),
	},
	properties.Property{
		Name: PropReadyFile, Kind: properties.String,
		Description: "A file the program creates when it is ready (absolute; optional).",
		Help: "When set, Online removes it before starting the program and returns once it exists, polling every " +
			"ReadyPollInterval. Empty: the program is ready once started (and StartGrace has passed).",
		Validate: absolutePath(false),
	},
	properties.Property{
		Name: PropStartGrace, Kind: properties.Duration, Default: time.Duration(0),
		Min: time.Duration(0), Max: MaxStartGrace,
		Description: "How long the program must survive its start before Online succeeds.",
		Help:        "Online fails if the program exits within this time of its start. Default 0: no wait.",
	},
	properties.Property{
		Name: PropStopSignal, Kind: properties.String, Default: "TERM",
		Allowed:     []any{"TERM", "INT", "HUP", "QUIT", "USR1", "USR2"},
		Description: "The signal Offline sends to the program's process group.",
		Help:        "Offline sends it, then waits for the program to exit; Terminate always sends KILL. Reloadable.",
		Reloadable:  true,
	},
	properties.Property{
		Name: PropWorkingDirectory, Kind: properties.String,
		Description: "The program's working directory (absolute; optional).",
		Help:        "Empty: the host's working directory. It must exist when Online runs.",
		Validate:    absolutePath(false),
	},
	properties.Property{
		Name: PropEnvironment, Kind: properties.MultiString,
		Description: "Environment variables for the program, KEY=VALUE each (optional).",
		Help:        "Added to the host's environment; a key given here overrides the host's value.",
		Validate:    validateEnvironment,
	},
	properties.Property{
		Name: PropLogFile, Kind: properties.String,
		Description: "Where the program's output goes (absolute; optional).",
		Help:        "Standard output and standard error are appended to it (created with mode 0640). Empty: discarded.",
		Validate:    absolutePath(false),
	},
)

// Schema returns the type's private-property schema (R50).
func Schema() *properties.Schema { return schema }

func validateCommand(v any) error {
	argv := v.([]string)
	const allowed = "the program and its arguments, one string each, the program an absolute path or a name in PATH"
	switch {
	case len(argv) == 0:
		return &properties.PropertyError{Problem: "is empty", Allowed: allowed}
	case argv[0] == "":
		return &properties.PropertyError{Problem: "the program (the first string) is empty", Allowed: allowed}
	case strings.Contains(argv[0], "/") && !filepath.IsAbs(argv[0]):
		return &properties.PropertyError{Problem: fmt.Sprintf("the program %q is a relative path", argv[0]), Allowed: allowed}
	}
	return nil
}

// absolutePath returns a validator of an absolute path; required says
// whether the empty string is refused.
func absolutePath(required bool) func(v any) error {
	return func(v any) error {
		s := v.(string)
		switch {
		case s == "" && required:
			return &properties.PropertyError{Problem: "is empty", Allowed: "an absolute path"}
		case s != "" && !filepath.IsAbs(s):
			return &properties.PropertyError{Problem: fmt.Sprintf("%q is a relative path", s), Allowed: "an absolute path"}
		}
		return nil
	}
}

func validateEnvironment(v any) error {
	for i, kv := range v.([]string) {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return &properties.PropertyError{Problem: fmt.Sprintf("entry %d, %q, is not KEY=VALUE", i, kv),
				Allowed: "KEY=VALUE strings with a non-empty KEY"}
		}
	}
	return nil
}

// config is a resource's parsed property values.
type config struct {
	argv       []string
	stateDir   string
	readyFile  string
	grace      time.Duration
	stopName   string
	stopSignal syscall.Signal
	workDir    string
	env        []string
	logFile    string
}

// parseConfig checks vals against the schema (R52) and returns them parsed.
// Every problem is reported at once, each naming its property; the error
// wraps resource.ErrNotConfigured and properties.ErrInvalid.
func parseConfig(vals properties.Values) (config, error) {
	if err := schema.ValidateValues(vals); err != nil {
		return config{}, fmt.Errorf("process: %w: %w", resource.ErrNotConfigured, err)
	}
	vals = schema.Defaults().Merge(schema.Canonical(vals))
	str := func(name string) string { s, _ := vals.GetString(name); return s }
	c := config{
		stateDir:  filepath.Clean(str(PropStateDir)),
		readyFile: str(PropReadyFile),
		stopName:  str(PropStopSignal),
		workDir:   str(PropWorkingDirectory),
		logFile:   str(PropLogFile),
	}
	c.argv, _ = vals.GetMultiString(PropCommand)
	c.env, _ = vals.GetMultiString(PropEnvironment)
	c.grace, _ = vals.GetDuration(PropStartGrace)
	c.stopSignal = stopSignal(c.stopName)
	return c, nil
}
