package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// JaegerQuery is a target of Grafana's Jaeger data source, which the
// foundation SDK has no type for. Its fields are those of Grafana's
// jaeger dataquery schema: a search (service, operation, logfmt tags,
// durations, limit), or, with QueryType unset, the trace whose id is
// Query.
type JaegerQuery struct {
	RefID       string                `json:"refId,omitempty"`
	Hide        *bool                 `json:"hide,omitempty"`
	Datasource  *common.DataSourceRef `json:"datasource,omitempty"`
	QueryType   JaegerQueryType       `json:"queryType,omitempty"`
	Service     string                `json:"service,omitempty"`
	Operation   string                `json:"operation,omitempty"`
	Tags        string                `json:"tags,omitempty"` // logfmt: error=true gen_ai.request.model=gpt-4o
	MinDuration string                `json:"minDuration,omitempty"`
	MaxDuration string                `json:"maxDuration,omitempty"`
	Limit       int64                 `json:"limit,omitempty"`
	Query       string                `json:"query,omitempty"` // a trace id
}

// JaegerQueryType says what a Jaeger target asks for.
type JaegerQueryType string

// The Jaeger query types; the zero value looks a trace up by its id.
const (
	JaegerTraceID         JaegerQueryType = ""
	JaegerSearch          JaegerQueryType = "search"
	JaegerUpload          JaegerQueryType = "upload"
	JaegerDependencyGraph JaegerQueryType = "dependencyGraph"
)

// JaegerType is the Jaeger data source's plugin id.
const JaegerType = "jaeger"

var _ variants.Dataquery = JaegerQuery{}

func (JaegerQuery) ImplementsDataqueryVariant() {}

func (JaegerQuery) DataqueryType() string { return JaegerType }

func (q JaegerQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(JaegerQuery)
	return ok && reflect.DeepEqual(q, o)
}

// jaegerDuration is what Jaeger's API reads as a duration: a number and
// a unit (1.2s, 100ms, 500us), or a variable Grafana substitutes.
var jaegerDuration = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h)|\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?)$`)

var traceIDPattern = regexp.MustCompile(`^([0-9a-fA-F]{16}|[0-9a-fA-F]{32}|\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?)$`)

// Validate reports a query Grafana's Jaeger data source would refuse or
// that Jaeger's API cannot answer.
func (q JaegerQuery) Validate() error {
	switch q.QueryType {
	case JaegerSearch:
		if q.Query != "" {
			return fmt.Errorf("jaeger query %s: a search has no trace id (query %q)", q.RefID, q.Query)
		}
	case JaegerTraceID:
		if !traceIDPattern.MatchString(q.Query) {
			return fmt.Errorf("jaeger query %s: trace id %q is not 16 or 32 hex digits", q.RefID, q.Query)
		}
	case JaegerUpload, JaegerDependencyGraph:
	default:
		return fmt.Errorf("jaeger query %s: queryType %q is not search, upload, dependencyGraph or unset", q.RefID, q.QueryType)
	}
	for name, d := range map[string]string{"minDuration": q.MinDuration, "maxDuration": q.MaxDuration} {
		if d != "" && !jaegerDuration.MatchString(d) {
			return fmt.Errorf("jaeger query %s: %s %q is not a duration such as 250ms or 1.5s", q.RefID, name, d)
		}
	}
	if q.Limit < 0 {
		return fmt.Errorf("jaeger query %s: limit %d is negative", q.RefID, q.Limit)
	}
	if _, err := ParseLogfmt(q.Tags); err != nil {
		return fmt.Errorf("jaeger query %s: tags: %w", q.RefID, err)
	}
	return nil
}

// ParseLogfmt reads the tags of a Jaeger search as Grafana's data source
// does before sending them as JSON: space-separated key=value pairs,
// values optionally in double quotes.
func ParseLogfmt(s string) (map[string]string, error) {
	out := map[string]string{}
	rest := strings.TrimSpace(s)
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			return nil, fmt.Errorf("cannot parse %q: want key=value pairs", s)
		}
		var value string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("cannot parse %q: unterminated quote", s)
			}
			value, rest = after[1:1+end], after[2+end:]
		} else {
			value, rest, _ = strings.Cut(after, " ")
		}
		out[key] = value
		rest = strings.TrimSpace(rest)
	}
	return out, nil
}

// JaegerQueryBuilder builds a JaegerQuery for a panel's targets.
type JaegerQueryBuilder struct{ q JaegerQuery }

var _ cog.Builder[variants.Dataquery] = (*JaegerQueryBuilder)(nil)

// Build returns the query, or why it is invalid.
func (b *JaegerQueryBuilder) Build() (variants.Dataquery, error) {
	if err := b.q.Validate(); err != nil {
		return nil, err
	}
	return b.q, nil
}

func strictJaeger(raw []byte) (variants.Dataquery, error) {
	var q JaegerQuery
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return nil, fmt.Errorf("jaeger query: %w", err)
	}
	return q, nil
}

func init() {
	// The SDK decodes a panel's targets by their data source type through
	// one runtime: register its own types, then Jaeger's.
	plugins.RegisterDefaultPlugins()
	cog.NewRuntime().RegisterDataqueryVariant(variants.DataqueryConfig{
		Identifier: JaegerType,
		DataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q JaegerQuery
			err := json.Unmarshal(raw, &q)
			return q, err
		},
		StrictDataqueryUnmarshaler: strictJaeger,
	})
}
