package resource

import (
	"fmt"
	"time"
)

// Special durations for options whose zero value already means "the
// contract's default" (DESIGN, options convention). Any other negative
// duration is refused at construction.
const (
	// Never means no time-out (a pending timeout, a check timeout) or no
	// retry (RetryPeriodOnFailure).
	Never time.Duration = -1
	// NoDelay means "at once" where zero means a default delay
	// (RestartDelay).
	NoDelay time.Duration = -2
)

// DurationOption resolves an option field under the options convention:
// zero gives def; [Never] gives Never when allowNever; [NoDelay] gives 0 when
// allowNoDelay; a positive value is itself; anything else is an error that
// names the field and says what is allowed.
func DurationOption(field string, v, def time.Duration, allowNever, allowNoDelay bool) (time.Duration, error) {
	switch {
	case v == 0:
		return def, nil
	case v > 0:
		return v, nil
	case v == Never && allowNever:
		return Never, nil
	case v == NoDelay && allowNoDelay:
		return 0, nil
	}
	allowed := "a positive duration, or 0 for the default " + def.String()
	if allowNever {
		allowed += ", or resource.Never"
	}
	if allowNoDelay {
		allowed += ", or resource.NoDelay"
	}
	return 0, fmt.Errorf("%s is %v: allowed is %s: %w", field, v, allowed, ErrInvalidOption)
}
