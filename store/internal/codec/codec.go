// Package codec holds the stored encodings both store backends share: span
// parts that are kept but never filtered on (events and links are stored as
// one JSON document each, so the schema stays portable: no nested arrays).
// The SQL both backends run, and the scanning of its rows, is
// store/internal/sqlq's.
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
