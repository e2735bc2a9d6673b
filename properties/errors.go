package properties

import "errors"

// Errors of the property path. Callers match them with [errors.Is]; the errors
// this package returns wrap them with the property's name and what was wrong.
var (
	// ErrUnsupported answers a request nobody handles: a control code with
	// no handler, an optional capability a resource does not have (R51;
	// Windows' ERROR_INVALID_FUNCTION). Package resource re-exports it.
	ErrUnsupported = errors.New("properties: unsupported")

	// ErrInvalid is wrapped by every validation error: an unknown name, a
	// value of the wrong kind, a value out of range, a missing required
	// property, a bad schema declaration (R52).
	ErrInvalid = errors.New("properties: invalid")

	// ErrNotSet is wrapped when a typed accessor is asked for a name that
	// holds no value.
	ErrNotSet = errors.New("properties: not set")

	// ErrCorrupt is wrapped when stored property data is damaged (R56): the
	// store reports it and never replaces the data silently.
	ErrCorrupt = errors.New("properties: store is corrupt")

	// ErrStored is the answer "stored, applies at next Online" (R58;
	// Windows' ERROR_RESOURCE_PROPERTIES_STORED): the new values were saved
	// but the running resource could not take them, so they take effect the
	// next time it comes online. It reports success with a caveat, not a
	// failure: the values are not lost.
	ErrStored = errors.New("properties: stored; the new values take effect at the next Online")

	// ErrOutOfSync is wrapped when the stored values may not be in the
	// application's own configuration: the sync hook failed, or a set
	// ended before the hook confirmed it (R54). The stored values stand;
	// [Manager.Reconcile] retries.
	ErrOutOfSync = errors.New("properties: the application's configuration is out of sync with the store")

	// ErrClosed is wrapped by every call on a [Store] after Close.
	ErrClosed = errors.New("properties: store is closed")
)
