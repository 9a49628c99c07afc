// Package codec holds what both store backends share: the encodings of span
// parts that are kept but never filtered on (events and links are stored as
// one JSON document each, so the schema stays portable: no nested arrays),
// row scanning, and the SQL of simple filters.
package codec

import (
	"encoding/json"
	"fmt"

	"github.com/vigil-dev/vigil/store"
)

// EncodeEventsLinks returns the stored form of a span's events and links;
// none is the empty string.
func EncodeEventsLinks(sp *store.Span) (events, links string, err error) {
	if len(sp.Events) > 0 {
		b, err := json.Marshal(sp.Events)
		if err != nil {
			return "", "", fmt.Errorf("cannot encode events of span %s: %w", sp.SpanID, err)
		}
		events = string(b)
	}
	if len(sp.Links) > 0 {
		b, err := json.Marshal(sp.Links)
		if err != nil {
			return "", "", fmt.Errorf("cannot encode links of span %s: %w", sp.SpanID, err)
		}
		links = string(b)
	}
	return events, links, nil
}

// DecodeEventsLinks is the inverse of EncodeEventsLinks.
func DecodeEventsLinks(sp *store.Span, events, links string) error {
	if events != "" {
		if err := json.Unmarshal([]byte(events), &sp.Events); err != nil {
			return fmt.Errorf("cannot decode stored events of span %s: %w", sp.SpanID, err)
		}
	}
	if links != "" {
		if err := json.Unmarshal([]byte(links), &sp.Links); err != nil {
			return fmt.Errorf("cannot decode stored links of span %s: %w", sp.SpanID, err)
		}
	}
	return nil
}

// Equal appends "col = ?" for each column whose value is set, in order:
// the optional filters span reads share on both backends (an empty value
// matches everything).
func Equal(where []string, args []any, colValues ...string) ([]string, []any) {
	for i := 0; i+1 < len(colValues); i += 2 {
		if colValues[i+1] != "" {
			where, args = append(where, colValues[i]+" = ?"), append(args, colValues[i+1])
		}
	}
	return where, args
}
