package slo

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestConvertToOpenSLO: Sloth's and Pyrra's SLOs written as OpenSLO read
// back into the same SLOs (SLI, objective, window, service, tenant and
// burn-rate rules), but for what the notes name; the documents lint clean.
func TestConvertToOpenSLO(t *testing.T) {
	slos, _, err := Load([]string{"testdata/sloth", "testdata/pyrra"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := ConvertToOpenSLO(slos)
	if err != nil || len(conv.Skipped) > 0 {
		t.Fatalf("%v, skipped %v", err, conv.Skipped)
	}
	dir := t.TempDir()
	writeFile(t, dir, "openslo.yaml", string(conv.Documents))
	back, problems, err := Load([]string{dir}, time.Minute)
	if err != nil || len(problems) > 0 {
		t.Fatalf("reading the OpenSLO back: %v %v\n%s", err, problems, conv.Documents)
	}
	byName := map[string]*SLO{}
	for _, s := range back {
		byName[s.Name] = s
	}
	notes := strings.Join(conv.Notes, "\n")
	for _, s := range slos {
		b := byName[s.Name]
		if b == nil {
			t.Errorf("%s: not read back", s.Name)
			continue
		}
		if b.Objective != s.Objective || b.Window != s.Window || b.Method != s.Method || b.Service != s.Service || b.Tenant != s.Tenant || b.Description != s.Description {
			t.Errorf("%s: read back as %+v", s.Name, b)
		}
		if !reflect.DeepEqual(renderedSLI(s.SLI), b.SLI) {
			t.Errorf("%s: SLI %+v, read back %+v", s.Name, s.SLI, b.SLI)
		}
		if len(s.Alerts) == 0 {
			if !strings.Contains(notes, s.Name+" (") || !strings.Contains(notes, "it has no burn-rate alerts") {
				t.Errorf("%s: no note of its missing alerts in\n%s", s.Name, notes)
			}
			continue
		}
		if len(b.Alerts) != len(s.Alerts) {
			t.Fatalf("%s: %d rules read back, want %d", s.Name, len(b.Alerts), len(s.Alerts))
		}
		for i, w := range s.Alerts {
			r := b.Alerts[i]
			if r.Severity != w.Severity || r.Long != w.Long || r.Factor != w.Factor || r.For != w.For || r.Inclusive != w.Inclusive {
				t.Errorf("%s: rule %d read back as %+v, want %+v", s.Name, i, r, w)
			}
			if r.Short != w.Short && !strings.Contains(notes, "pairs it with "+formatDuration(w.Short)) {
				t.Errorf("%s: short window %s read back as %s, without a note", s.Name, w.Short, r.Short)
			}
		}
		if pol := s.policy(); !reflect.DeepEqual(pol.NoData, b.policy().NoData) || pol.Breaching != b.policy().Breaching {
			t.Errorf("%s: policy %+v read back as %+v", s.Name, pol, b.policy())
		}
	}
	// Pyrra's longest pair over 28 days is not a twelfth; Sloth's are.
	if !strings.Contains(notes, "gateway-errors (testdata/pyrra/ratio.yaml:4): the ticket rule over 4d pairs it with 6h") ||
		strings.Contains(notes, "chat-requests-availability (testdata/sloth/chat.yaml:17): the page rule over") {
		t.Errorf("notes:\n%s", notes)
	}
}

// renderedSLI is the SLI as converted: {{.window}} written as the range
// the evaluator samples over.
func renderedSLI(sli SLI) SLI {
	switch s := sli.(type) {
	case MetricRatio:
		s.Good, s.Bad, s.Total = renderIf(s.Good), renderIf(s.Bad), renderIf(s.Total)
		return s
	case RawRatio:
		s.Query = renderIf(s.Query)
		return s
	}
	return sli
}

func renderIf(q string) string {
	if q == "" {
		return ""
	}
	return render(q, sampleRange)
}
