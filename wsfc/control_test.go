package wsfc

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/resource/resourcetest"
)

// get runs a control code that answers a property list, first asking its
// size, and decodes the list.
func get(t *testing.T, h *Host, id ResID, code uint32) properties.Values {
	t.Helper()
	n, rc := h.ResourceControl(id, code, nil, nil)
	if rc != ErrorMoreData || n == 0 {
		t.Fatalf("control %#08x with no buffer = %d, %v; want the size and ERROR_MORE_DATA", code, n, rc)
	}
	out := make([]byte, n)
	got, rc := h.ResourceControl(id, code, nil, out)
	if rc != ErrorSuccess || got != n {
		t.Fatalf("control %#08x = %d, %v; want %d bytes", code, got, rc, n)
	}
	vals, err := DecodePropertyList(testSchema, out)
	if err != nil {
		t.Fatalf("control %#08x answered a bad list: %v", code, err)
	}
	return vals
}

func set(t *testing.T, h *Host, id ResID, code uint32, m map[string]any) Errno {
	t.Helper()
	in, err := EncodePropertyList(testSchema, mustValues(t, m))
	if err != nil {
		t.Fatal(err)
	}
	_, rc := h.ResourceControl(id, code, in, nil)
	return rc
}

// The private-property control codes, through the properties package and
// the store (R51–R53, R58).
func TestPrivateProperties(t *testing.T) {
	w := newWorld(t, worldOptions{})
	f := resourcetest.NewFake(w.clk, resourcetest.Caps{})
	id := w.open(f, 1)
	h := w.host

	if n, rc := h.ResourceControl(id, CtlResourceUnknown, nil, nil); rc != ErrorSuccess || n != 0 {
		t.Errorf("CLUSCTL_RESOURCE_UNKNOWN = %d, %v", n, rc)
	}
	out := make([]byte, 256)
	n, rc := h.ResourceControl(id, CtlResourceEnumPrivateProperties, nil, out)
	if rc != ErrorSuccess {
		t.Fatalf("ENUM = %v", rc)
	}
	if names, err := decodeMulti(out[:n]); err != nil || !slices.Equal(names, []string{"Port", "Comment", "Build"}) {
		t.Errorf("ENUM = %q, %v", names, err)
	}

	vals := get(t, h, id, CtlResourceGetPrivateProperties)
	if p, _ := vals.GetUint32("Port"); p != 80 || vals.Has("Build") || !vals.Has("Comment") {
		t.Errorf("GET = %v; want the settable properties with their defaults", vals)
	}
	ro := get(t, h, id, CtlResourceGetROPrivateProperties)
	if b, _ := ro.GetString("Build"); b != "b1" || ro.Len() != 1 {
		t.Errorf("GET_RO = %v; want Build only", ro)
	}

	// A valid set is stored (and, the resource being Offline, in effect).
	if rc := set(t, h, id, CtlResourceSetPrivateProperties, map[string]any{"Port": uint32(8080), "Comment": "hi"}); rc != ErrorSuccess {
		t.Fatalf("SET = %v", rc)
	}
	if p, _ := get(t, h, id, CtlResourceGetPrivateProperties).GetUint32("Port"); p != 8080 {
		t.Errorf("Port = %d after the set", p)
	}
	// Refused sets change nothing, whatever else they carry (R52, R53).
	for name, m := range map[string]map[string]any{
		"out of range":    {"Port": uint32(0), "Comment": "lost"},
		"read-only":       {"Build": "b2", "Comment": "lost"},
		"unknown name":    {"Colour": "red", "Comment": "lost"},
		"wrong kind (SZ)": {"Port": "8081", "Comment": "lost"},
	} {
		in, err := EncodePropertyList(nil, mustValues(t, m))
		if err != nil {
			t.Fatal(err)
		}
		if _, rc := h.ResourceControl(id, CtlResourceSetPrivateProperties, in, nil); rc != ErrorInvalidParameter {
			t.Errorf("SET %s = %v, want ERROR_INVALID_PARAMETER", name, rc)
		}
		if _, rc := h.ResourceControl(id, CtlResourceValidatePrivateProps, in, nil); rc != ErrorInvalidParameter {
			t.Errorf("VALIDATE %s = %v, want ERROR_INVALID_PARAMETER", name, rc)
		}
	}
	if _, rc := h.ResourceControl(id, CtlResourceSetPrivateProperties, []byte{1, 0, 0}, nil); rc != ErrorInvalidData {
		t.Errorf("SET of a malformed list = %v, want ERROR_INVALID_DATA", rc)
	}
	if c, _ := get(t, h, id, CtlResourceGetPrivateProperties).GetString("Comment"); c != "hi" {
		t.Errorf("Comment = %q after refused sets, want hi", c)
	}
	refusals := 0
	for _, l := range w.mon.logged() {
		if l.level == LogWarning && l.h == 1 {
			refusals++
		}
	}
	if refusals < 9 {
		t.Errorf("%d refusals logged through LogEvent, want one per refused set or validate", refusals)
	}
	// VALIDATE of good values stores nothing.
	if rc := set(t, h, id, CtlResourceValidatePrivateProps, map[string]any{"Port": uint32(1234)}); rc != ErrorSuccess {
		t.Errorf("VALIDATE = %v", rc)
	}
	if p, _ := get(t, h, id, CtlResourceGetPrivateProperties).GetUint32("Port"); p != 8080 {
		t.Errorf("Port = %d after VALIDATE, want 8080", p)
	}

	// While Online: a non-reloadable change is stored for the next Online
	// (R58); a reloadable one reaches the resource at once.
	w.online(id)
	if rc := set(t, h, id, CtlResourceSetPrivateProperties, map[string]any{"Port": uint32(9000)}); rc != ErrorResourcePropertiesStored {
		t.Errorf("SET Port while Online = %v, want ERROR_RESOURCE_PROPERTIES_STORED", rc)
	}
	before := f.Count(resource.OpSetProperties)
	if rc := set(t, h, id, CtlResourceSetPrivateProperties, map[string]any{"Comment": "live"}); rc != ErrorSuccess {
		t.Errorf("SET Comment while Online = %v", rc)
	}
	if f.Count(resource.OpSetProperties) != before+1 {
		t.Error("the reloadable value did not reach the resource's ApplyProperties")
	}
	if p, _ := get(t, h, id, CtlResourceGetPrivateProperties).GetUint32("Port"); p != 9000 {
		t.Errorf("Port = %d, want the stored 9000", p)
	}

	fmts := make([]byte, 512)
	n, rc = h.ResourceControl(id, CtlResourceGetPrivatePropertyFmts, nil, fmts)
	if rc != ErrorSuccess || !slices.Equal(fmts[:n], EncodeFormatList(testSchema)) {
		t.Errorf("GET_FMTS = %v", rc)
	}

	// Common properties are the cluster service's; other codes nobody's.
	for _, code := range []uint32{CtlResourceEnumCommonProperties, CtlResourceGetROCommonProperties, CtlResourceGetCommonProperties,
		CtlResourceSetCommonProperties, CtlResourceValidateCommonProps, CtlResourceGetCommonPropertyFmts, 0x01000069,
		0x01000005, 0x01000FFC, 0x02000081} {
		if _, rc := h.ResourceControl(id, code, nil, make([]byte, 64)); rc != ErrorInvalidFunction {
			t.Errorf("control %#08x = %v, want ERROR_INVALID_FUNCTION", code, rc)
		}
	}
}

// User codes reach the resource's Controller through the wrapper, with its
// input and output; a resource without one answers ERROR_INVALID_FUNCTION.
func TestUserControlCodes(t *testing.T) {
	w := newWorld(t, worldOptions{})
	f := resourcetest.NewFake(w.clk, resourcetest.Caps{})
	f.SetControlResult([]byte("answer"))
	id := w.open(f, 1)
	code := userCode(t, resource.FirstResourceControlCode+5)
	out := make([]byte, 32)
	n, rc := w.host.ResourceControl(id, code, []byte("question"), out)
	if rc != ErrorSuccess || string(out[:n]) != "answerquestion" { // the fake answers its result, then its input
		t.Errorf("user code = %q, %v; want answerquestion", out[:n], rc)
	}
	calls := f.Calls()
	if last := calls[len(calls)-1]; last.Op != resource.OpControl || last.Code != resource.FirstResourceControlCode+5 {
		t.Errorf("the Controller got %v code %#x", last.Op, last.Code)
	}
	if n, rc := w.host.ResourceControl(id, code, []byte("q"), out[:3]); rc != ErrorMoreData || n != 7 {
		t.Errorf("a small buffer = %d, %v; want 7, ERROR_MORE_DATA", n, rc)
	}
	nc := resourcetest.NewFake(w.clk, resourcetest.Caps{NoController: true})
	id2 := w.open(nc, 2)
	if _, rc := w.host.ResourceControl(id2, code, nil, out); rc != ErrorInvalidFunction {
		t.Errorf("a user code without a Controller = %v, want ERROR_INVALID_FUNCTION", rc)
	}
}

func TestResourceTypeControl(t *testing.T) {
	w := newWorld(t, worldOptions{})
	out := make([]byte, 512)
	if n, rc := w.host.ResourceTypeControl("fake", CtlResourceTypeUnknown, nil, out); rc != ErrorSuccess || n != 0 {
		t.Errorf("TYPE_UNKNOWN = %d, %v", n, rc)
	}
	n, rc := w.host.ResourceTypeControl("Fake", CtlResourceTypeGetResourcePropFmts, nil, out)
	if rc != ErrorSuccess || !slices.Equal(out[:n], EncodeFormatList(testSchema)) {
		t.Errorf("GET_PRIVATE_RESOURCE_PROPERTY_FMTS = %v", rc)
	}
	if n, rc := w.host.ResourceTypeControl("Fake", CtlResourceTypeGetResourcePropFmts, nil, out[:4]); rc != ErrorMoreData || int(n) != len(EncodeFormatList(testSchema)) {
		t.Errorf("a small buffer = %d, %v", n, rc)
	}
	for _, code := range []uint32{0x02000079, 0x02000081, 0x02400086, 0x02000059, 0x02000FFC} {
		if _, rc := w.host.ResourceTypeControl("Fake", code, nil, out); rc != ErrorInvalidFunction {
			t.Errorf("type control %#08x = %v, want ERROR_INVALID_FUNCTION", code, rc)
		}
	}
	if _, rc := w.host.ResourceTypeControl("Nope", CtlResourceTypeUnknown, nil, out); rc != ErrorResourceTypeNotFound {
		t.Errorf("an unknown type = %v", rc)
	}
}

// The format list: for each property its name and a WORD of its format.
func TestFormatList(t *testing.T) {
	b := EncodeFormatList(testSchema)
	if binary.LittleEndian.Uint32(b) != 3 {
		t.Fatalf("count %d", binary.LittleEndian.Uint32(b))
	}
	// Port: name entry (8 + 10 bytes "Port\0" padded to 12), then the WORD.
	off := 4 + 8 + 12
	if s := binary.LittleEndian.Uint32(b[off:]); s != syntaxWord {
		t.Fatalf("syntax %#x, want LIST_VALUE_WORD", s)
	}
	if l, f := binary.LittleEndian.Uint32(b[off+4:]), binary.LittleEndian.Uint16(b[off+8:]); l != 2 || f != 2 {
		t.Errorf("cbLength %d format %d, want 2 and DWORD (2)", l, f)
	}
	if e := binary.LittleEndian.Uint32(b[off+12:]); e != syntaxEndmark {
		t.Errorf("no end mark after the WORD (padded to 4 bytes)")
	}
}
