package ocf

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The environment of one invocation, as OCF 1.1 and Pacemaker set it.
const (
	envInstance     = "OCF_RESOURCE_INSTANCE"
	envParamPrefix  = "OCF_RESKEY_"
	envMetaPrefix   = "CRM_meta_" // after envParamPrefix: Pacemaker's meta attributes
	envTimeout      = envParamPrefix + envMetaPrefix + "timeout"
	envInterval     = envParamPrefix + envMetaPrefix + "interval"
	envFeatureSet   = "crm_feature_set" // after envParamPrefix: Pacemaker's CIB version, not a parameter
	envReasonPrefix = "OCF_EXIT_REASON_PREFIX"
	envDebug        = "HA_debug"

	// defaultReasonPrefix starts the line of stderr that carries an exit
	// reason, when OCF_EXIT_REASON_PREFIX does not say otherwise.
	defaultReasonPrefix = "ocf-exit-reason:"
)

// param is one OCF_RESKEY_<name> variable that is a parameter of the
// resource (not one of Pacemaker's meta attributes).
type param struct {
	name, value string
}

// invocation is what the environment says about one call of the agent.
type invocation struct {
	instance     string        // OCF_RESOURCE_INSTANCE; empty when unset
	timeout      time.Duration // OCF_RESKEY_CRM_meta_timeout; 0 when unset
	interval     time.Duration // OCF_RESKEY_CRM_meta_interval; 0 when unset (a probe)
	reasonPrefix string
	params       []param // sorted by name
}

// parseEnv reads env, in the form of os.Environ; when a variable appears
// more than once the last one counts, as with os/exec. Malformed meta
// attributes give an error wrapping ErrInvalidArgs.
func parseEnv(env []string) (invocation, error) {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			vars[k] = v
		}
	}
	inv := invocation{instance: vars[envInstance], reasonPrefix: defaultReasonPrefix}
	if p, ok := vars[envReasonPrefix]; ok && p != "" && !strings.ContainsAny(p, "\r\n") {
		inv.reasonPrefix = p
	}
	var err error
	if inv.timeout, err = millis(vars, envTimeout); err != nil {
		return inv, err
	}
	if inv.interval, err = millis(vars, envInterval); err != nil {
		return inv, err
	}
	for k, v := range vars {
		name, ok := strings.CutPrefix(k, envParamPrefix)
		if !ok || name == "" || name == envFeatureSet || strings.HasPrefix(name, envMetaPrefix) {
			continue
		}
		inv.params = append(inv.params, param{name: name, value: v})
	}
	slices.SortFunc(inv.params, func(a, b param) int { return strings.Compare(a.name, b.name) })
	return inv, nil
}

// millis reads the variable name of vars as a whole number of milliseconds,
// as Pacemaker writes its meta attributes; 0 when it is unset or empty.
func millis(vars map[string]string, name string) (time.Duration, error) {
	s, ok := vars[name]
	if !ok || s == "" {
		return 0, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 || ms > int64(maxDuration/time.Millisecond) {
		return 0, fmt.Errorf("%w: %s=%q (allowed: a whole number of milliseconds)", ErrInvalidArgs, name, s)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// maxDuration is the longest time.Duration.
const maxDuration = time.Duration(1<<63 - 1)
