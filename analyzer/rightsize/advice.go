package rightsize

import (
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Advice is what right-sizing recommends for one workload: its
// containers' requests and limits, or its replica count. It is the record
// of rightsize.advice events, which actions policies act on (a resize
// from Resources through Patches, a scale from Replicas).
type Advice struct {
	Tenant    string           `json:"tenant"`
	Namespace string           `json:"namespace"`
	Kind      string           `json:"kind"`
	Workload  string           `json:"workload"`
	Resources []Recommendation `json:"resources,omitempty"`
	Replicas  *ReplicaAdvice   `json:"replicas,omitempty"`
}

// Advices is the codec of recommendation events.
var Advices = store.Codec[Advice]{Kind: store.KindRecommendation, Type: "rightsize.advice", Version: 1}

// Subject is how an advice's events name the workload:
// namespace/kind/name, so readers select one workload's advice in the
// store.
func (a Advice) Subject() string { return a.Namespace + "/" + a.Kind + "/" + a.Workload }

// AdviceEvent records an advice computed at a time. Its id derives from
// the workload, the time and what is recommended, so recording the same
// advice twice keeps one event.
func AdviceEvent(a Advice, at time.Time) (store.Event, error) {
	if a.Tenant == "" {
		a.Tenant = store.DefaultTenant
	}
	what, summary := "resources", fmt.Sprintf("right-size %s: %d container(s)", a.Subject(), len(a.Resources))
	if a.Replicas != nil {
		what = fmt.Sprintf("replicas=%d", a.Replicas.Recommended)
		summary = fmt.Sprintf("scale %s from %d to %d replicas", a.Subject(), a.Replicas.Current, a.Replicas.Recommended)
	}
	for _, r := range a.Resources {
		for _, v := range r.Values {
			what += fmt.Sprintf(" %s.%s.%s=%s", r.Container, v.Resource, v.Setting, v.RecommendedQuantity)
		}
	}
	return Advices.Event(store.Event{
		Tenant: a.Tenant, ID: store.EventID(store.KindRecommendation, a.Tenant, a.Subject(), at.UTC().Format(time.RFC3339), what),
		Subject: a.Subject(), Severity: "info", Time: at, Summary: summary,
	}, a)
}
