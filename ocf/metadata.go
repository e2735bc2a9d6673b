package ocf

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/resdll/resdll/properties"
)

// OCFVersion is the version of the OCF resource-agent API the agent speaks,
// written in meta-data's <version> element. Pacemaker uses reload-agent only
// with agents of version 1.1 or later.
const OCFVersion = "1.1"

// The meta-data's document type. ocf-tester validates meta-data against
// ra-api-1.dtd (resource-agents' copy of the OCF 1.0 DTD), which knows
// neither the reloadable attribute nor the reload-agent action of OCF 1.1.
// A type with reloadable properties needs both, so its meta-data declares
// them in the document type's internal subset, as XML allows: the internal
// subset is read before the external one, and its declaration of an
// attribute is the binding one. The declarations are those of OCF 1.1's own
// DTD; a type without reloadable properties gets the plain OCF 1.0 document
// type.
const (
	doctype      = `<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">`
	doctypeOCF11 = `<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd" [
<!-- OCF 1.1 additions to ra-api-1.dtd that this agent uses: reloadable parameters and the reload-agent action. -->
<!ATTLIST parameter reloadable (1|0) "0">
<!ATTLIST action name (start|stop|recover|monitor|restart|migrate_to|migrate_from|promote|demote|notify|status|reload|reload-agent|meta-data|usage|methods|validate-all) #REQUIRED>
]>`
)

// The elements of meta-data, in the order ra-api-1.dtd requires.
type (
	agentXML struct {
		XMLName    xml.Name    `xml:"resource-agent"`
		Name       string      `xml:"name,attr"`
		Version    string      `xml:"version,attr,omitempty"`
		OCFVersion string      `xml:"version"`
		LongDesc   descXML     `xml:"longdesc"`
		ShortDesc  descXML     `xml:"shortdesc"`
		Parameters []paramXML  `xml:"parameters>parameter"`
		Actions    []actionXML `xml:"actions>action"`
	}
	descXML struct {
		Lang string `xml:"lang,attr"`
		Text string `xml:",chardata"`
	}
	paramXML struct {
		Name       string     `xml:"name,attr"`
		Required   string     `xml:"required,attr"`
		Unique     string     `xml:"unique,attr"`
		Reloadable string     `xml:"reloadable,attr,omitempty"`
		LongDesc   descXML    `xml:"longdesc"`
		ShortDesc  descXML    `xml:"shortdesc"`
		Content    contentXML `xml:"content"`
	}
	contentXML struct {
		Type    string  `xml:"type,attr"`
		Default *string `xml:"default,attr,omitempty"`
	}
	actionXML struct {
		Name     string `xml:"name,attr"`
		Timeout  string `xml:"timeout,attr"`
		Interval string `xml:"interval,attr,omitempty"`
		Depth    string `xml:"depth,attr,omitempty"`
	}
)

// MetaData returns the agent's meta-data, the XML the meta-data action
// prints (OCF 1.1): the agent's name and descriptions; one parameter per
// property of the type's schema that an administrator may set (read-only
// properties are the type's own business), with its kind as an OCF content
// type (string, integer, boolean or time), its default written as the agent
// reads it, required when the schema requires it and has no default,
// unique, reloadable (R50, R58), and a long description that says what
// text the kind takes and which values are allowed; and the actions with
// time-out hints from Options.Policy and Options.Margin. Each hint is the
// time-out whose budget gives the operation its full time from the policy
// (see Options.Margin: the agent keeps a margin and a clean-up share back
// from Pacemaker's time-out): the operation's time plus the clean-up share
// plus the margin, rounded up to whole seconds. The operation's time is
// PendingTimeout for start (the Online, R11), stop (the Offline; a stop
// that escalates has the clean-up share, at most TerminateTimeout, for the
// Terminator, R16), validate-all and reload-agent, and CheckTimeout for
// monitor (R21), whose interval hint is IsAliveInterval; meta-data has 5 s.
// So a 20 s PendingTimeout and CheckTimeout give 30 s hints, and the
// default policy's 180 s give 234 s. reload-agent is listed only for a type
// with reloadable properties.
func (a *Agent) MetaData() ([]byte, error) {
	doc := agentXML{
		Name: a.name, Version: a.opts.Version, OCFVersion: OCFVersion,
		LongDesc:  descXML{Lang: "en", Text: a.longDesc()},
		ShortDesc: descXML{Lang: "en", Text: a.shortDesc()},
	}
	for _, p := range a.t.Schema().Properties() {
		if p.ReadOnly {
			continue
		}
		x := paramXML{
			Name: p.Name, Required: flag(p.Required && p.Default == nil), Unique: flag(p.Unique),
			LongDesc:  descXML{Lang: "en", Text: paramLongDesc(p)},
			ShortDesc: descXML{Lang: "en", Text: paramShortDesc(p)},
			Content:   contentXML{Type: contentType(p.Kind)},
		}
		if a.reloadable {
			x.Reloadable = flag(p.Reloadable)
		}
		if p.Default != nil {
			d := formatValue(p.Kind, p.Default)
			x.Content.Default = &d
		}
		doc.Parameters = append(doc.Parameters, x)
	}
	hint := func(action string) string { return pacemakerDuration(a.hint(action)) }
	doc.Actions = []actionXML{
		{Name: actionStart, Timeout: hint(actionStart)},
		{Name: actionStop, Timeout: hint(actionStop)},
		{Name: actionMonitor, Timeout: hint(actionMonitor), Interval: a.monitorInterval(), Depth: "0"},
		{Name: actionValidate, Timeout: hint(actionValidate)},
		{Name: actionMetaData, Timeout: hint(actionMetaData)},
	}
	if a.reloadable {
		doc.Actions = append(doc.Actions, actionXML{Name: actionReloadAgent, Timeout: hint(actionReloadAgent)})
	}
	body, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ocf: meta-data: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if a.reloadable {
		b.WriteString(doctypeOCF11 + "\n")
	} else {
		b.WriteString(doctype + "\n")
	}
	b.Write(body)
	b.WriteString("\n")
	return b.Bytes(), nil
}

// monitorInterval is the monitor action's interval hint: the policy's
// IsAliveInterval, or none when it is resource.Never.
func (a *Agent) monitorInterval() string {
	if a.policy.IsAliveInterval <= 0 {
		return ""
	}
	return pacemakerDuration(a.policy.IsAliveInterval)
}

func (a *Agent) shortDesc() string {
	if a.opts.ShortDesc != "" {
		return a.opts.ShortDesc
	}
	return fmt.Sprintf("The %s resource type, run by resdll", a.t.Name())
}

func (a *Agent) longDesc() string {
	if a.opts.LongDesc != "" {
		return a.opts.LongDesc
	}
	actions := "start, stop, monitor, validate-all and meta-data"
	if a.reloadable {
		actions = "start, stop, monitor, validate-all, reload-agent (for the reloadable parameters) and meta-data"
	}
	return fmt.Sprintf("Runs resources of the %s resource type, written for the resdll library, as an OCF resource agent: %s.",
		a.t.Name(), actions)
}

// flag writes a boolean attribute as the OCF DTD spells it.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// contentType is the OCF content type of a kind: the DTD's string,
// integer, boolean or time.
func contentType(k properties.Kind) string {
	switch k {
	case properties.Int64, properties.Uint32, properties.Uint64:
		return "integer"
	case properties.Bool:
		return "boolean"
	case properties.Duration:
		return "time"
	}
	return "string"
}

func paramShortDesc(p properties.Property) string {
	if p.Description != "" {
		return p.Description
	}
	return p.Name
}

// paramLongDesc is the property's help, then what text its kind takes and
// which values are allowed.
func paramLongDesc(p properties.Property) string {
	var parts []string
	switch {
	case p.Help != "":
		parts = append(parts, p.Help)
	case p.Description != "":
		parts = append(parts, p.Description)
	}
	parts = append(parts, "Value: "+kindSyntax(p.Kind)+".")
	if len(p.Allowed) > 0 {
		vals := make([]string, len(p.Allowed))
		for i, v := range p.Allowed {
			vals[i] = formatValue(p.Kind, v)
		}
		parts = append(parts, "Allowed: "+strings.Join(vals, ", ")+".")
	}
	switch {
	case p.Min != nil && p.Max != nil:
		parts = append(parts, fmt.Sprintf("From %s to %s.", formatValue(p.Kind, p.Min), formatValue(p.Kind, p.Max)))
	case p.Min != nil:
		parts = append(parts, fmt.Sprintf("At least %s.", formatValue(p.Kind, p.Min)))
	case p.Max != nil:
		parts = append(parts, fmt.Sprintf("At most %s.", formatValue(p.Kind, p.Max)))
	}
	if p.Reloadable {
		parts = append(parts, "Reloadable: a change applies to the running resource (reload-agent) without a restart.")
	}
	return strings.Join(parts, " ")
}
