package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// Vigil is how the demo talks to Vigil as its users' tools would: remote
// write to the ingest port, and the HTTP API of the web port with a token
// of the role each call needs.
type Vigil struct {
	Ingest string // base URL of the ingest HTTP port
	Web    string // base URL of the web port
	Tenant string
	// Tokens: ingest for remote write, editor to import bills, operator
	// to approve actions (--demo=auto); "" sends none.
	IngestToken, EditorToken, OperatorToken string
	HTTP                                    *http.Client
}

func (v *Vigil) client() *http.Client {
	if v.HTTP != nil {
		return v.HTTP
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

// do sends a request and reads the answer; an answer that is not 2xx is
// an error quoting it.
func (v *Vigil) do(ctx context.Context, method, u, token string, header http.Header, body []byte) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if v.Tenant != "" {
		req.Header.Set("X-Scope-OrgID", v.Tenant)
	}
	resp, err := v.client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		return out, resp.Header, fmt.Errorf("%s %s answered %s: %s", method, req.URL.Path, resp.Status, strings.TrimSpace(string(out)))
	}
	return out, resp.Header, nil
}

// RemoteWrite sends samples as one Prometheus remote write 1.0 request:
// a snappy-compressed prometheus.WriteRequest, encoded field by field as
// Prometheus marshals it (the generated prompb types would bring gogo
// protobuf along for three messages).
func (v *Vigil) RemoteWrite(ctx context.Context, samples []Sample) error {
	type series struct {
		labels [][2]string
		points []Sample
	}
	index := map[string]int{}
	var all []*series
	for _, s := range samples {
		var key strings.Builder
		for _, l := range s.Labels {
			key.WriteString(l[0] + "\x00" + l[1] + "\x00")
		}
		i, ok := index[key.String()]
		if !ok {
			i = len(all)
			index[key.String()] = i
			all = append(all, &series{labels: s.Labels})
		}
		all[i].points = append(all[i].points, s)
	}
	var req []byte
	for _, s := range all {
		var ts []byte
		for _, l := range s.labels {
			var lb []byte
			lb = protowire.AppendTag(lb, 1, protowire.BytesType)
			lb = protowire.AppendString(lb, l[0])
			lb = protowire.AppendTag(lb, 2, protowire.BytesType)
			lb = protowire.AppendString(lb, l[1])
			ts = protowire.AppendTag(ts, 1, protowire.BytesType)
			ts = protowire.AppendBytes(ts, lb)
		}
		for _, p := range s.points {
			var sb []byte
			sb = protowire.AppendTag(sb, 1, protowire.Fixed64Type)
			sb = protowire.AppendFixed64(sb, math.Float64bits(p.Value))
			sb = protowire.AppendTag(sb, 2, protowire.VarintType)
			sb = protowire.AppendVarint(sb, uint64(p.At.UnixMilli()))
			ts = protowire.AppendTag(ts, 2, protowire.BytesType)
			ts = protowire.AppendBytes(ts, sb)
		}
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendBytes(req, ts)
	}
	h := http.Header{"Content-Type": {"application/x-protobuf"}, "Content-Encoding": {"snappy"}, "X-Prometheus-Remote-Write-Version": {"0.1.0"}}
	_, _, err := v.do(ctx, "POST", v.Ingest+"/api/v1/write", v.IngestToken, h, snappy.Encode(nil, req))
	return err
}

// ImportBill posts a FOCUS file to the billing import, as `curl` or a
// nightly job would.
func (v *Vigil) ImportBill(ctx context.Context, name string, csv []byte) error {
	_, _, err := v.do(ctx, "POST", v.Web+"/api/v1/billing/import?format=focus&name="+url.QueryEscape(name), v.EditorToken,
		http.Header{"Content-Type": {"text/csv"}}, csv)
	return err
}

// ActionSummary is what the demo reads of an action.
type ActionSummary struct {
	ID      string `json:"id"`
	Policy  string `json:"policy"`
	State   string `json:"state"`
	Version int    `json:"version"`
}

// Actions lists the tenant's actions of a policy in a state.
func (v *Vigil) Actions(ctx context.Context, policy, state string) ([]ActionSummary, error) {
	body, _, err := v.do(ctx, "GET", v.Web+"/api/v1/actions?policy="+url.QueryEscape(policy)+"&state="+url.QueryEscape(state), v.OperatorToken, nil, nil)
	if err != nil {
		return nil, err
	}
	var page struct{ Actions []ActionSummary }
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("cannot read the actions: %w", err)
	}
	return page.Actions, nil
}

// Approve approves an action on the version read, once however often it
// is sent.
func (v *Vigil) Approve(ctx context.Context, a ActionSummary, reason string) error {
	body, _ := json.Marshal(map[string]string{"reason": reason})
	h := http.Header{"If-Match": {strconv.Quote(strconv.Itoa(a.Version))}, "Idempotency-Key": {"demo-approve-" + a.ID}, "Content-Type": {"application/json"}}
	_, _, err := v.do(ctx, "POST", v.Web+"/api/v1/actions/"+url.PathEscape(a.ID)+"/approve", v.OperatorToken, h, body)
	return err
}

// WaitReady waits until the web port answers /readyz.
func (v *Vigil) WaitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if _, _, err := v.do(ctx, "GET", v.Web+"/readyz", "", nil, nil); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("demo: Vigil at %s is not ready: %w", v.Web, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
