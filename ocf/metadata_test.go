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
	if got := strings.Join(actions, " "); got != "start=20s/ stop=30s/ monitor=20s/10s validate-all=20s/ meta-data=5s/ reload-agent=20s/" {
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
	if doc.Name != "Fake" || !strings.Contains(doc.ShortDesc, "Fake") || doc.Actions[1].Timeout != "210s" || doc.Actions[2].Interval != "60s" {
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
