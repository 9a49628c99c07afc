package canary

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// How a Spec tells the canary from the baseline: by the promoted
// deployment column (the "deployment" attribute, e.g. canary/stable) or
// by model version.
const (
	ByDeployment   = "deployment"
	ByModelVersion = "model_version"
)

// Spec says what to compare: two deployments (or model versions) of one
// service, optionally one operation or model, over one window.
type Spec struct {
	Tenant    string `json:"tenant"`
	Service   string `json:"service"`
	Operation string `json:"operation,omitempty"`
	Model     string `json:"model,omitempty"`
	// By is ByDeployment (the default) or ByModelVersion.
	By       string    `json:"by"`
	Canary   string    `json:"canary"`
	Baseline string    `json:"baseline"`
	Start    time.Time `json:"from"`
	End      time.Time `json:"to"`
	// Limit bounds the latency samples read per side (0: the store's
	// default, store.DefaultDurationLimit). Request and error counts are
	// always exact.
	Limit  int    `json:"limit,omitempty"`
	Config Config `json:"-"`
}

// Validate reports the first thing wrong with the spec.
func (s Spec) Validate() error {
	switch {
	case s.Service == "":
		return errors.New("canary spec: service is required")
	case s.Canary == "" || s.Baseline == "":
		return errors.New("canary spec: both the canary and the baseline must be named")
	case s.Canary == s.Baseline:
		return fmt.Errorf("canary spec: canary and baseline are both %q", s.Canary)
	case s.By != "" && s.By != ByDeployment && s.By != ByModelVersion:
		return fmt.Errorf("canary spec: by %q: want %s or %s", s.By, ByDeployment, ByModelVersion)
	case !s.End.After(s.Start):
		return errors.New("canary spec: the window's end must be after its start")
	case s.Limit < 0:
		return fmt.Errorf("canary spec: limit %d must not be negative", s.Limit)
	}
	return s.Config.Validate()
}

// Analysis is a judgement together with what was compared.
type Analysis struct {
	// Monitor names the canary monitor that judged, when one did (see
	// Job): what actions policies name.
	Monitor string `json:"monitor,omitempty"`
	Spec    Spec   `json:"spec"`
	Result
	// Sampled: at least one side had more spans than the limit, so the
	// latency test ran on a uniform sample of them.
	Sampled bool `json:"sampled"`
}

// Analyze reads both sides from the store and judges the canary.
func Analyze(ctx context.Context, r store.DurationReader, spec Spec) (Analysis, error) {
	if err := spec.Validate(); err != nil {
		return Analysis{}, err
	}
	if spec.By == "" {
		spec.By = ByDeployment
	}
	canary, cs, err := read(ctx, r, spec, spec.Canary)
	if err != nil {
		return Analysis{}, err
	}
	baseline, bs, err := read(ctx, r, spec, spec.Baseline)
	if err != nil {
		return Analysis{}, err
	}
	res, err := Evaluate(canary, baseline, spec.Config)
	if err != nil {
		return Analysis{}, err
	}
	return Analysis{Spec: spec, Result: res, Sampled: cs || bs}, nil
}

func read(ctx context.Context, r store.DurationReader, spec Spec, version string) (Side, bool, error) {
	q := store.DurationQuery{Tenant: spec.Tenant, Service: spec.Service, Operation: spec.Operation, Model: spec.Model,
		Start: spec.Start, End: spec.End, Limit: spec.Limit}
	if spec.By == ByModelVersion {
		q.ModelVersion = version
	} else {
		q.Deployment = version
	}
	d, err := r.SpanDurations(ctx, q)
	if err != nil {
		return Side{}, false, fmt.Errorf("cannot read %s %q of %s: %w", spec.By, version, spec.Service, err)
	}
	side := Side{Requests: d.Spans, Errors: d.Errors, Latencies: make([]time.Duration, 0, len(d.Samples))}
	for _, s := range d.Samples {
		if !s.Error {
			side.Latencies = append(side.Latencies, time.Duration(s.Nanos))
		}
	}
	return side, uint64(len(d.Samples)) < d.Spans, nil
}

// Analyses is the codec of canary verdict events: an Analysis each.
var Analyses = store.Codec[Analysis]{Kind: store.KindFinding, Type: "canary.analysis", Version: 1}

// Finding records an analysis as a finding event. Its id derives from
// what was compared, the window and the verdict, so recording the same
// judgement twice (a retry, a second replica, a repeated API call) keeps
// one event, while a verdict that changes as late spans arrive is a new
// finding.
func Finding(a Analysis) (store.Event, error) {
	s := a.Spec
	tenant := s.Tenant
	if tenant == "" {
		tenant = store.DefaultTenant
	}
	from, to := s.Start.UTC().Format(time.RFC3339Nano), s.End.UTC().Format(time.RFC3339Nano)
	severity := "info"
	switch a.Verdict {
	case VerdictFail:
		severity = "critical"
	case VerdictMarginal, VerdictInconclusive:
		severity = "warning"
	}
	ev, err := Analyses.Event(store.Event{
		Tenant:  tenant,
		ID:      store.EventID(store.KindFinding, tenant, "canary", s.Service, s.Operation, s.Model, s.By, s.Canary, s.Baseline, from, to, string(a.Verdict)),
		Subject: s.Service + "/" + s.Canary, Severity: severity,
		// The window's end, not the wall clock: copies must be identical.
		Time:    s.End.UTC(),
		Summary: fmt.Sprintf("canary %s %q of %s against %q: %s (%s)", s.By, s.Canary, s.Service, s.Baseline, a.Verdict, a.Reason),
	}, a)
	if err != nil {
		return store.Event{}, fmt.Errorf("canary %s/%s: %w", s.Service, s.Canary, err)
	}
	return ev, nil
}
