package auth

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// Action is what an audit record records.
type Action string

const (
	ActionLogin           Action = "login"
	ActionLoginFailed     Action = "login_failed"
	ActionLogout          Action = "logout"
	ActionTokenCreated    Action = "token_created"
	ActionTokenRevoked    Action = "token_revoked"
	ActionPasswordChanged Action = "password_changed"
	ActionForbidden       Action = "forbidden" // a 403
)

// Audit is one record of the audit log: who did what, from where; when
// is its event's time. It never holds a secret.
type Audit struct {
	Action Action `json:"action"`
	Actor  string `json:"actor"`            // person:admin, token:ID, anonymous:anonymous, cli:USER
	Addr   string `json:"addr,omitempty"`   // the client's address
	Target string `json:"target,omitempty"` // what was acted on: a token's id, a user, a route
	Detail string `json:"detail,omitempty"` // why: the role needed, the reason a login failed
}

// Audits is the codec of audit events.
var Audits = store.Codec[Audit]{Kind: store.KindAudit, Type: "auth.audit", Version: 1}

// AuditEvent makes the event of an audit record. Records that concern no
// tenant (logins, password changes) go in the default tenant.
func AuditEvent(tenant string, at time.Time, a Audit) (store.Event, error) {
	if tenant == "" {
		tenant = store.DefaultTenant
	}
	sev := "info"
	if a.Action == ActionForbidden || a.Action == ActionLoginFailed {
		sev = "warning"
	}
	id := store.EventID(store.KindAudit, tenant, strconv.FormatInt(at.UnixNano(), 10), string(a.Action), a.Actor, a.Addr, a.Target)
	summary := a.Actor + " " + string(a.Action)
	if a.Target != "" {
		summary += " " + a.Target
	}
	return Audits.Event(store.Event{Tenant: tenant, ID: id, Subject: a.Actor, Severity: sev, Time: at.UTC(), Summary: summary}, a)
}

// auditBuffer bounds the records waiting to be written; beyond it they
// are dropped and counted rather than slowing the requests that make them.
const auditBuffer = 4096

// auditFlushEvery batches writes: a flood of 403s is one insert a second.
const auditFlushEvery = time.Second

// AuditLog writes audit records in batches, off the requests' path.
type AuditLog struct {
	w       store.EventWriter
	log     *slog.Logger
	queue   chan store.Event
	dropped atomic.Int64
	now     func() time.Time
}

// NewAuditLog returns a log writing to w; Run writes.
func NewAuditLog(w store.EventWriter, logger *slog.Logger) *AuditLog {
	return &AuditLog{w: w, log: logger, queue: make(chan store.Event, auditBuffer), now: time.Now}
}

// Record queues a record of the tenant's.
func (l *AuditLog) Record(_ context.Context, tenant string, a Audit) {
	ev, err := AuditEvent(tenant, l.now(), a)
	if err != nil {
		l.log.Error("cannot encode an audit record", "action", a.Action, "err", err)
		return
	}
	select {
	case l.queue <- ev:
	default:
		l.dropped.Add(1)
	}
}

// Run writes queued records every second until ctx ends, then writes what
// is left.
func (l *AuditLog) Run(ctx context.Context) error {
	tick := time.NewTicker(auditFlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			l.flush(context.Background())
			return nil
		case <-tick.C:
			l.flush(ctx)
		}
	}
}

func (l *AuditLog) flush(ctx context.Context) {
	var batch []store.Event
	for len(batch) < auditBuffer {
		select {
		case ev := <-l.queue:
			batch = append(batch, ev)
			continue
		default:
		}
		break
	}
	if n := l.dropped.Swap(0); n > 0 {
		l.log.Warn("audit records dropped: more arrived than could be written", "dropped", n)
	}
	if len(batch) == 0 {
		return
	}
	if err := l.w.WriteEvents(ctx, batch); err != nil {
		l.log.Error("cannot write audit records", "records", len(batch), "err", err)
	}
}
