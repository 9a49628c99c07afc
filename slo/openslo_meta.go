package slo

import (
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-dev/vigil/config"
)

// openSLOKindsOf are the kinds each version has: openslo/v1alpha knew only
// SLO and Service.
var openSLOKindsOf = map[string][]string{
	"openslo/v1alpha":     {"SLO", "Service"},
	"openslo/v1":          openSLOKinds,
	"openslo.com/v2alpha": openSLOKinds,
}

// metadataFields are the metadata each version has: v1alpha only a name
// and a display name, v2alpha labels and annotations but no display name.
var metadataFields = map[string][]string{
	"openslo/v1alpha":     {"name", "displayName"},
	"openslo/v1":          {"name", "displayName", "labels", "annotations", "project"}, // project: Nobl9's exports
	"openslo.com/v2alpha": {"name", "labels", "annotations"},
}

// The spec's keys: a label key is a name of at most 63 alphanumerics,
// dashes, underscores and dots, starting and ending alphanumeric; an
// annotation key is such a name after an optional DNS subdomain prefix and
// a slash.
var (
	labelKeyRE      = regexp.MustCompile(`^[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$`)
	annotationKeyRE = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$`)
)

// checkMetadata reports what the object's version does not allow in its
// metadata; at reports a problem at a field of the object.
func checkMetadata(o *osObject, at func(field, format string, args ...any)) {
	m := config.Value(o.node, "metadata")
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	allowed := metadataFields[o.APIVersion]
	for i := 0; i+1 < len(m.Content); i += 2 {
		// A key no version has is decoding's to report.
		if k := m.Content[i].Value; !slices.Contains(allowed, k) && slices.Contains(metadataFields["openslo/v1"], k) {
			at("metadata."+k, "%s metadata has %s, not %s", o.APIVersion, strings.Join(allowed, ", "), k)
		}
	}
	if n := len(o.Metadata.DisplayName); n > 63 {
		at("metadata.displayName", "is %d characters long; at most 63", n)
	}
	for k, v := range o.Metadata.Labels {
		if !labelKeyRE.MatchString(k) {
			at("metadata.labels", "label %q: a key is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", k)
		}
		switch {
		case labelValueOK(o.v2(), v):
		case o.v2():
			at("metadata.labels", "label %q: openslo.com/v2alpha label values are strings", k)
		default:
			at("metadata.labels", "label %q: a value is a string or a list of strings", k)
		}
	}
	for k := range o.Metadata.Annotations {
		if len(k) > 253+1+63 || !annotationKeyRE.MatchString(k) {
			at("metadata.annotations", "annotation %q: a key is an optional DNS subdomain and '/', then a name as a label key's", k)
		}
	}
}

func labelValueOK(v2 bool, v any) bool {
	switch x := v.(type) {
	case string:
		return true
	case []any:
		if v2 {
			return false
		}
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}
