package dashboards

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
)

// Check decodes a dashboard file as strictly as the foundation SDK can
// (unknown fields are errors) and validates it, then checks what Grafana's
// schema would refuse and the SDK lets through, and the rules Vigil's
// dashboards keep: no empty string where Grafana wants an enum value,
// every target reading the data source variables, every PromQL expression
// parsing once Grafana's macros are substituted, and no rate window of
// $__interval (too short at small steps; $__rate_interval is meant).
func Check(raw []byte) (dashboard.Dashboard, error) {
	d, err := decodeStrict(raw)
	if err != nil {
		return d, fmt.Errorf("cannot decode dashboard: %w", err)
	}
	if err := sdkError(d.Validate()); err != nil {
		return d, fmt.Errorf("invalid dashboard: %w", err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return d, err
	}
	if path := emptyString(tree, ""); path != "" {
		return d, fmt.Errorf("dashboard %s: %s is an empty string, which Grafana's schema refuses where it wants an enum value", uidOf(d), path)
	}
	if d.Uid == nil || *d.Uid == "" || len(*d.Uid) > maxUID {
		return d, fmt.Errorf("dashboard %q: its uid must be 1 to %d characters", titleOf(d), maxUID)
	}
	if !slices.Contains(d.Tags, ManagedTag) {
		return d, fmt.Errorf("dashboard %s: no %s tag", uidOf(d), ManagedTag)
	}
	qs, err := Queries(d)
	if err != nil {
		return d, err
	}
	w := Window{From: time.Unix(0, 0), To: time.Unix(3600, 0), MaxDataPoints: 1000, ScrapeInterval: 15 * time.Second}
	p := parser.NewParser(parser.Options{})
	for _, q := range qs {
		if q.Jaeger != nil {
			if err := q.Jaeger.Validate(); err != nil {
				return d, fmt.Errorf("dashboard %s, %s: %w", uidOf(d), q.Where, err)
			}
			continue
		}
		if strings.Contains(q.Expr, "[$__interval]") {
			return d, fmt.Errorf("dashboard %s, %s: a range of $__interval misses samples at small steps; use $__rate_interval", uidOf(d), q.Where)
		}
		expr := q.Expr
		if q.Variable != "" {
			if expr, err = LabelValuesSelector(expr); err != nil {
				return d, fmt.Errorf("dashboard %s, %s: %w", uidOf(d), q.Where, err)
			}
		}
		expanded, err := w.Interpolate(expr, d, nil)
		if err != nil {
			return d, fmt.Errorf("dashboard %s, %s: %w", uidOf(d), q.Where, err)
		}
		if _, err := p.ParseExpr(expanded); err != nil {
			return d, fmt.Errorf("dashboard %s, %s: cannot parse PromQL %q: %w", uidOf(d), q.Where, expanded, err)
		}
	}
	return d, nil
}

// decodeStrict is the SDK's strict decoding, with its panels and their
// targets decoded again here: in v0.0.22 a panel's and a query's strict
// decoders return an empty cog.BuildErrors (a non-nil error) on success,
// so the dashboard's decoder drops every panel and every target as
// failed without reporting anything.
func decodeStrict(raw []byte) (dashboard.Dashboard, error) {
	var d dashboard.Dashboard
	if err := sdkError(d.UnmarshalJSONStrict(raw)); err != nil {
		return d, err
	}
	var top struct{ Panels []json.RawMessage }
	if err := json.Unmarshal(raw, &top); err != nil {
		return d, err
	}
	d.Panels = nil
	for i, rawPanel := range top.Panels {
		var kind struct{ Type string }
		if err := json.Unmarshal(rawPanel, &kind); err != nil {
			return d, fmt.Errorf("panels[%d]: %w", i, err)
		}
		if kind.Type == "row" {
			row := &dashboard.RowPanel{}
			if err := sdkError(row.UnmarshalJSONStrict(rawPanel)); err != nil {
				return d, fmt.Errorf("panels[%d]: %w", i, err)
			}
			var nested struct{ Panels []json.RawMessage }
			json.Unmarshal(rawPanel, &nested)
			row.Panels = nil
			for j, rp := range nested.Panels {
				p, err := decodePanel(rp)
				if err != nil {
					return d, fmt.Errorf("panels[%d].panels[%d]: %w", i, j, err)
				}
				row.Panels = append(row.Panels, *p)
			}
			d.Panels = append(d.Panels, dashboard.PanelOrRowPanel{RowPanel: row})
			continue
		}
		p, err := decodePanel(rawPanel)
		if err != nil {
			return d, fmt.Errorf("panels[%d]: %w", i, err)
		}
		d.Panels = append(d.Panels, dashboard.PanelOrRowPanel{Panel: p})
	}
	return d, nil
}

// decodePanel decodes a panel strictly, and its targets by their data
// source's type: Prometheus, or Vigil's Jaeger query type.
func decodePanel(raw []byte) (*dashboard.Panel, error) {
	p := &dashboard.Panel{}
	if err := sdkError(p.UnmarshalJSONStrict(raw)); err != nil {
		return nil, err
	}
	var ts struct{ Targets []json.RawMessage }
	if err := json.Unmarshal(raw, &ts); err != nil {
		return nil, err
	}
	p.Targets = nil
	for i, rt := range ts.Targets {
		var ref struct{ Datasource *common.DataSourceRef }
		if err := json.Unmarshal(rt, &ref); err != nil {
			return nil, fmt.Errorf("targets[%d]: %w", i, err)
		}
		typ := ""
		if ref.Datasource != nil {
			typ = deref(ref.Datasource.Type)
		}
		switch typ {
		case "prometheus":
			var q prometheus.Dataquery
			if err := sdkError(q.UnmarshalJSONStrict(rt)); err != nil {
				return nil, fmt.Errorf("targets[%d]: %w", i, err)
			}
			if err := sdkError(q.Validate()); err != nil {
				return nil, fmt.Errorf("targets[%d]: %w", i, err)
			}
			p.Targets = append(p.Targets, q)
		case JaegerType:
			q, err := strictJaeger(rt)
			if err != nil {
				return nil, fmt.Errorf("targets[%d]: %w", i, err)
			}
			p.Targets = append(p.Targets, q)
		default:
			return nil, fmt.Errorf("targets[%d]: a query of data source type %q, not prometheus or jaeger", i, typ)
		}
	}
	return p, nil
}

// sdkError is the SDK's error, or nil: its strict decoder can return an
// empty cog.BuildErrors, a non-nil error that holds no error.
func sdkError(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

func uidOf(d dashboard.Dashboard) string {
	if d.Uid == nil {
		return fmt.Sprintf("%q", titleOf(d))
	}
	return *d.Uid
}

func titleOf(d dashboard.Dashboard) string {
	if d.Title == nil {
		return ""
	}
	return *d.Title
}

// emptyString returns the path of the first empty string in a decoded
// JSON tree, in a fixed order; "" when there is none.
func emptyString(v any, path string) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return path
		}
	case []any:
		for i, e := range x {
			if p := emptyString(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p := emptyString(x[k], path+"."+k); p != "" {
				return p
			}
		}
	}
	return ""
}

// Query is one query a dashboard makes: a panel's PromQL target, a
// variable's label_values, or a panel's Jaeger search.
type Query struct {
	Where    string // panel "title" target A, or variable name
	Panel    string
	RefID    string
	Expr     string // PromQL, or label_values(selector, label) for a variable
	Legend   string
	Instant  bool
	Variable string // the variable whose values this query lists
	Jaeger   *JaegerQuery
}

// Queries lists every query of a dashboard, variables first, then the
// panels' targets in order. A target of a data source other than Vigil's
// two is an error.
func Queries(d dashboard.Dashboard) ([]Query, error) {
	var out []Query
	if d.Templating.List != nil {
		for _, v := range d.Templating.List {
			if v.Type != dashboard.VariableTypeQuery {
				continue
			}
			if v.Query == nil || v.Query.String == nil {
				return nil, fmt.Errorf("dashboard %s: variable %s has no query", uidOf(d), v.Name)
			}
			if err := wantRef(v.Datasource, "prometheus", DatasourceVar); err != nil {
				return nil, fmt.Errorf("dashboard %s: variable %s: %w", uidOf(d), v.Name, err)
			}
			out = append(out, Query{Where: "variable " + v.Name, Variable: v.Name, Expr: *v.Query.String})
		}
	}
	var panels []dashboard.Panel
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			panels = append(panels, *p.Panel)
		case p.RowPanel != nil:
			panels = append(panels, p.RowPanel.Panels...)
		}
	}
	for _, p := range panels {
		title := ""
		if p.Title != nil {
			title = *p.Title
		}
		for _, t := range p.Targets {
			switch q := t.(type) {
			case prometheus.Dataquery:
				ref := deref(q.RefId)
				if err := wantRef(q.Datasource, "prometheus", DatasourceVar); err != nil {
					return nil, fmt.Errorf("dashboard %s, panel %q target %s: %w", uidOf(d), title, ref, err)
				}
				out = append(out, Query{Where: fmt.Sprintf("panel %q target %s", title, ref), Panel: title, RefID: ref,
					Expr: q.Expr, Legend: deref(q.LegendFormat), Instant: q.Instant != nil && *q.Instant})
			case JaegerQuery:
				if err := wantRef(q.Datasource, JaegerType, TracesVar); err != nil {
					return nil, fmt.Errorf("dashboard %s, panel %q target %s: %w", uidOf(d), title, q.RefID, err)
				}
				out = append(out, Query{Where: fmt.Sprintf("panel %q target %s", title, q.RefID), Panel: title, RefID: q.RefID, Jaeger: &q})
			default:
				return nil, fmt.Errorf("dashboard %s, panel %q: a %s query, not one of Vigil's data sources", uidOf(d), title, t.DataqueryType())
			}
		}
	}
	return out, nil
}

// wantRef checks that a query reads the data source its variable picks,
// so a user can point a copy of the dashboard at another one.
func wantRef(ref *common.DataSourceRef, typ, variable string) error {
	want := "${" + variable + "}"
	if ref == nil || deref(ref.Type) != typ || deref(ref.Uid) != want {
		return fmt.Errorf("its data source must be the %s data source %s", typ, want)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
