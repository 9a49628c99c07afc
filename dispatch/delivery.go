package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Subscriber takes the events of some types out of the process: an alert
// receiver, an action executor, a stream.
type Subscriber interface {
	// Name identifies the subscriber in the delivery log and in metrics;
	// unique among a dispatcher's subscribers.
	Name() string
	// Types are the event types it takes.
	Types() []string
	// Accepts reports whether an event of its types is work for it (an
	// alert receiver takes firing and resolved alerts, not pending ones).
	// It must depend on the event alone: it decides both at publication
	// and when the dispatcher takes work up again after a restart.
	Accepts(ev store.Event) bool
	// Deliver handles one tenant's events, oldest first; it may coalesce
	// them. A nil error means all of them are done with; an error marked
	// Permanent gives them up; any other is retried.
	Deliver(ctx context.Context, tenant string, events []store.Event) (Report, error)
}

// Bounded is a Subscriber with a backlog bound of its own (a stream's
// backlog: setting), in place of Options.QueueSize; 0 keeps the default.
type Bounded interface {
	QueueLimit() int
}

// Report says what a subscriber did with a batch.
type Report struct {
	Target string   // where it went, safe to show (no credentials, no secret paths)
	Status int      // the protocol's answer, e.g. the HTTP status; 0 when none
	Keys   []string // what was delivered, in the subscriber's terms (alert fingerprints)
	// Skipped: nothing needed sending (every alert silenced, say); the
	// batch is done with all the same.
	Skipped bool
	// Note is what the delivery log should say beside the outcome: why
	// nothing was sent, or a problem that did not stop the delivery.
	Note string
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks a delivery error that no retry can mend: the receiver
// refused the notification.
func Permanent(err error) error { return &permanentError{err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// Outcome is how an attempt ended.
type Outcome string

const (
	Delivered Outcome = "delivered"
	Retrying  Outcome = "retrying" // failed; another attempt follows
	Failed    Outcome = "failed"   // failed; given up
	Skipped   Outcome = "skipped"  // nothing needed sending (the note says why)
)

// final reports whether no attempt follows one with this outcome.
func (o Outcome) final() bool { return o != Retrying }

// Delivery is one attempt to deliver a batch: the record of the delivery
// log, one dispatch.delivery event in the batch's tenant per attempt.
type Delivery struct {
	Subscriber string   `json:"subscriber"`
	Target     string   `json:"target"`
	Try        int      `json:"try"` // 1 for the first
	Status     int      `json:"status"`
	LatencyMS  float64  `json:"latency_ms"`
	Outcome    Outcome  `json:"outcome"`
	Error      string   `json:"error,omitempty"`
	Note       string   `json:"note,omitempty"` // Report.Note
	Events     []string `json:"events"`         // the ids of the events the attempt carried
	Keys       []string `json:"keys"`           // Report.Keys
}

// Deliveries is the codec of the delivery log.
var Deliveries = store.Codec[Delivery]{Kind: store.KindDelivery, Type: "dispatch.delivery", Version: 1}

func deliveryEvent(tenant string, at time.Time, d Delivery) (store.Event, error) {
	severity := ""
	if d.Outcome == Failed {
		severity = "warning"
	}
	summary := fmt.Sprintf("%s to %s (%s), try %d: %d event(s)", d.Outcome, d.Subscriber, d.Target, d.Try, len(d.Events))
	for _, more := range []string{d.Error, d.Note} {
		if more != "" {
			summary += ": " + more
		}
	}
	return Deliveries.Event(store.Event{
		Tenant: tenant, ID: store.EventID(store.KindDelivery, tenant, d.Subscriber, at.Format(time.RFC3339Nano), strconv.Itoa(d.Try)),
		Subject: d.Subscriber, Severity: severity, Time: at, Summary: summary,
	}, d)
}
