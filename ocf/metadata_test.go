package ocf

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// raDTDDir is where resource-agents installs ra-api-1.dtd; ocf-tester
// validates meta-data there.
const raDTDDir = "/usr/share/resource-agents"

// needTool returns the path of a tool the test runs, looked up in PATH and
// then in /usr/sbin (where Debian puts ocf-tester and crm_resource, often
// outside a user's PATH). When it is missing the test fails under CI (the
// environment variable CI is set: .ci/run installs the tools) and is
// skipped otherwise, saying which Debian package has it.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		path, err = exec.LookPath("/usr/sbin/" + name)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing but CI is set: install the Debian package %s (.ci/run does)", name, pkg)
		}
		t.Skipf("%s is missing: install the Debian package %s to run this test", name, pkg)
	}
	return path
}

// metaDoc is the part of meta-data the tests read back.
type metaDoc struct {
	Name       string `xml:"name,attr"`
	Version    string `xml:"version,attr"`
	OCFVersion string `xml:"version"`
	ShortDesc  string `xml:"shortdesc"`
	Params     []struct {
		Name       string `xml:"name,attr"`
		Required   string `xml:"required,attr"`
		Unique     string `xml:"unique,attr"`
		Reloadable string `xml:"reloadable,attr"`
		LongDesc   string `xml:"longdesc"`
		ShortDesc  string `xml:"shortdesc"`
		Content    struct {
			Type    string  `xml:"type,attr"`
			Default *string `xml:"default,attr"`
		} `xml:"content"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name     string `xml:"name,attr"`
		Timeout  string `xml:"timeout,attr"`
		Interval string `xml:"interval,attr"`
	} `xml:"actions>action"`
}

func parseMeta(t *testing.T, data []byte) metaDoc {
	t.Helper()
	var doc metaDoc
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("meta-data is not XML: %v\n%s", err, data)
	}
	return doc
}

// meta-data describes every parameter an administrator may set, with its
// kind, default, flags (R50) and allowed values, and the actions with the
// policy's time-out hints; it needs no parameter and no resource.
func TestMetaData(t *testing.T) {
	w := newWorld(t)
	a := newAgent(t, w, fakeSchema, Options{Name: "fake", Version: "2.3", ShortDesc: "A fake for tests",
		Policy: wrapper.Policy{PendingTimeout: 20 * time.Second, TerminateTimeout: 10 * time.Second, IsAliveInterval: 10 * time.Second}})
	r := invoke(t.Context(), a, nil, "meta-data")
	if r.code != ExitSuccess || r.stderr != "" {
		t.Fatalf("meta-data: exit %v, stderr %q", r.code, r.stderr)
	}
	md, err := a.MetaData()
	if err != nil || r.stdout != string(md) {
		t.Fatalf("MetaData: %v; the action printed something else", err)
	}
	if !strings.Contains(r.stdout, "<!ATTLIST action name (start|stop|recover|monitor|restart|migrate_to|migrate_from|promote|demote|notify|status|reload|reload-agent|meta-data|usage|methods|validate-all) #REQUIRED>") {
		t.Error("meta-data of a type with reloadable properties does not declare OCF 1.1's reload-agent")
	}
	doc := parseMeta(t, md)
	if doc.Name != "fake" || doc.Version != "2.3" || doc.OCFVersion != "1.1" || doc.ShortDesc != "A fake for tests" {
		t.Errorf("header: %+v", doc)
	}
	type p struct{ required, unique, reloadable, typ, def string }
	want := map[string]p{
		"Name":    {"1", "1", "0", "string", "<none>"},
		"Port":    {"0", "0", "0", "integer", "8080"},
		"Args":    {"0", "0", "0", "string", "<none>"},
		"Verbose": {"0", "0", "1", "boolean", "false"},
		"Level":   {"0", "0", "1", "string", "info"},
		"Grace":   {"0", "0", "0", "time", "2s"},
		"Offset":  {"0", "0", "0", "integer", "<none>"},
		"Quota":   {"0", "0", "0", "integer", "<none>"},
		"Key":     {"0", "0", "0", "string", "<none>"},
	}
	var names []string
	for _, x := range doc.Params {
		names = append(names, x.Name)
		def := "<none>"
		if x.Content.Default != nil {
			def = *x.Content.Default
		}
		got := p{x.Required, x.Unique, x.Reloadable, x.Content.Type, def}
		if got != want[x.Name] {
			t.Errorf("parameter %s: %+v, want %+v", x.Name, got, want[x.Name])
		}
		if x.ShortDesc == "" || !strings.Contains(x.LongDesc, "Value: ") {
			t.Errorf("parameter %s: shortdesc %q, longdesc %q", x.Name, x.ShortDesc, x.LongDesc)
		}
	}
	if got := strings.Join(names, " "); got != "Name Port Args Verbose Level Grace Offset Quota Key" {
		t.Errorf("parameters %s; want the schema's order, without the read-only Serial", got)
	}
	longdesc := func(name string) string {
		for _, x := range doc.Params {
			if x.Name == name {
				return x.LongDesc
			}
		}
		return ""
	}
	for name, want := range map[string]string{
		"Name":  "What the instance calls itself.",
		"Port":  "From 1 to 65535.",
		"Level": "Allowed: debug, info, warn.",
		"Grace": "At most 1h0m0s.",
		"Args":  "JSON array of strings",
	} {
		if !strings.Contains(longdesc(name), want) {
			t.Errorf("the longdesc of %s, %q, lacks %q", name, longdesc(name), want)
		}
	}
	var actions []string
	for _, x := range doc.Actions {
		actions = append(actions, x.Name+"="+x.Timeout+"/"+x.Interval)
	}
	// The hints give each operation its full 20 s (see TestHints).
	if got := strings.Join(actions, " "); got != "start=30s/ stop=30s/ monitor=30s/10s validate-all=30s/ meta-data=5s/ reload-agent=30s/" {
		t.Errorf("actions %s", got)
	}

	// A type without reloadable properties: no reload-agent, and the plain
	// OCF 1.0 document type.
	plain := newAgent(t, w, plainSchema, Options{})
	md, err = plain.MetaData()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte(doctype+"\n")) || bytes.Contains(md, []byte("reload")) {
		t.Errorf("meta-data of a type without reloadable properties:\n%s", md)
	}
	doc = parseMeta(t, md)
	if doc.Name != "Fake" || !strings.Contains(doc.ShortDesc, "Fake") || doc.Actions[1].Timeout != "234s" || doc.Actions[2].Interval != "60s" {
		t.Errorf("defaults: %+v", doc)
	}
}

// The meta-data passes the check ocf-tester makes: xmllint --valid, in the
// directory of resource-agents' ra-api-1.dtd, for a type with reloadable
// properties (OCF 1.1's additions declared in the document), one without,
// and one whose descriptions need escaping. Without those declarations the
// check fails: it is not one that passes anything.
func TestMetaDataDTD(t *testing.T) {
	xmllint := needTool(t, "xmllint", "libxml2-utils")
	if _, err := os.Stat(raDTDDir + "/ra-api-1.dtd"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s/ra-api-1.dtd: %v; install the Debian package resource-agents (.ci/run does)", raDTDDir, err)
		}
		t.Skipf("%s/ra-api-1.dtd is missing: install the Debian package resource-agents to run this test", raDTDDir)
	}
	lint := func(md []byte) error {
		cmd := exec.CommandContext(t.Context(), xmllint, "--noout", "--valid", "-")
		cmd.Dir = raDTDDir
		cmd.Stdin = bytes.NewReader(md)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}
	w := newWorld(t)
	odd, err := resource.NewType("Odd <&> \"type\"", properties.MustSchema(properties.Property{
		Name: "odd", Kind: properties.String, Default: `<&"'>`, Description: "a < b & c", Help: "]]> <!-- -->\tand \x01",
	}), func(context.Context, string, properties.Values) (resource.Resource, error) {
		return nil, errors.New("unused")
	})
	if err != nil {
		t.Fatal(err)
	}
	oddAgent, err := New(odd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]*Agent{
		"reloadable": newAgent(t, w, fakeSchema, Options{}),
		"plain":      newAgent(t, w, plainSchema, Options{}),
		"escaping":   oddAgent,
	} {
		md, err := a.MetaData()
		if err != nil {
			t.Fatal(err)
		}
		if err := lint(md); err != nil {
			t.Errorf("%s: xmllint: %v\n%s", name, err, md)
		}
	}

	md, err := newAgent(t, w, fakeSchema, Options{}).MetaData()
	if err != nil {
		t.Fatal(err)
	}
	stripped := regexp.MustCompile(`(?s)<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd" \[.*?\]>`).ReplaceAll(md, []byte(doctype))
	if bytes.Equal(stripped, md) {
		t.Fatal("found no internal subset to strip")
	}
	if err := lint(stripped); err == nil || !strings.Contains(err.Error(), "reload") {
		t.Errorf("xmllint accepts reload-agent and reloadable without OCF 1.1's declarations: %v", err)
	}
}

// Each time-out hint in meta-data is the Pacemaker time-out whose budget
// gives the operation its full time from the policy (R11): PendingTimeout
// for start, stop, validate-all and reload-agent, CheckTimeout for monitor.
// It is the shortest such time-out in whole seconds, and an invocation
// without a time-out of Pacemaker's runs under it.
func TestHints(t *testing.T) {
	typ := fakeType(t, newWorld(t), fakeSchema)
	// dur draws a duration from 1 ns to upTo, or zero (the default) when
	// zero is allowed.
	dur := func(rt *rapid.T, name string, zero bool, upTo time.Duration) time.Duration {
		if zero && rapid.Bool().Draw(rt, name+" is zero") {
			return 0
		}
		return time.Duration(rapid.Int64Range(1, int64(upTo)).Draw(rt, name))
	}
	rapid.Check(t, func(rt *rapid.T) {
		opts := Options{
			Policy: wrapper.Policy{
				PendingTimeout:   dur(rt, "PendingTimeout", true, 3*time.Hour),
				TerminateTimeout: dur(rt, "TerminateTimeout", true, time.Hour),
				CheckTimeout:     dur(rt, "CheckTimeout", true, 3*time.Hour),
			},
			Margin: dur(rt, "Margin", true, 10*time.Minute),
		}
		a, err := New(typ, opts)
		if err != nil {
			rt.Fatal(err)
		}
		md, err := a.MetaData()
		if err != nil {
			rt.Fatal(err)
		}
		var doc metaDoc
		if err := xml.Unmarshal(md, &doc); err != nil {
			rt.Fatalf("meta-data is not XML: %v", err)
		}
		listed := make(map[string]string)
		for _, x := range doc.Actions {
			listed[x.Name] = x.Timeout
		}
		pol := a.policy
		for action, need := range map[string]time.Duration{
			"start": pol.PendingTimeout, "stop": pol.PendingTimeout, "validate-all": pol.PendingTimeout,
			"reload-agent": pol.PendingTimeout, "monitor": pol.CheckTimeout,
		} {
			hint := a.hint(action)
			if listed[action] != pacemakerDuration(hint) {
				rt.Fatalf("%s: meta-data lists %q, the agent runs under %v without Pacemaker's time-out", action, listed[action], hint)
			}
			if hint < time.Second || hint%time.Second != 0 {
				rt.Fatalf("%s: hint %v is not whole seconds", action, hint)
			}
			if b := newBudget(hint, opts.Margin, pol.TerminateTimeout); b.op < need {
				rt.Fatalf("%s: under its hint %v the operation gets %v, less than its %v", action, hint, b.op, need)
			}
			if shorter := hint - time.Second; shorter > 0 {
				if b := newBudget(shorter, opts.Margin, pol.TerminateTimeout); b.op >= need {
					rt.Fatalf("%s: hint %v, but %v already gives the operation %v of its %v", action, hint, shorter, b.op, need)
				}
			}
		}
		if listed["meta-data"] != "5s" {
			rt.Fatalf("meta-data's hint is %q", listed["meta-data"])
		}
	})
}
