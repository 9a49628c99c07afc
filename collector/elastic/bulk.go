// Package elastic receives logs in the Elasticsearch bulk API's shape, the
// subset that Filebeat, Logstash, Fluent Bit, rsyslog's omelasticsearch,
// syslog-ng's elasticsearch-http and Elastic's clients send: POST /_bulk,
// /{index}/_bulk, /{index}/_doc and /{index}/_create/{id}, answered as
// Elasticsearch answers, with an error per item that is refused while its
// neighbours are stored, and GET / so that clients which check the
// server's version before sending find one they accept.
package elastic

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil/store"
)

// item is one action of a bulk request and how it ended.
type item struct {
	action string // index, create, update, delete; "index" for an unreadable action line
	index  string
	id     string
	rec    *store.LogRecord // nil when refused
	status int
	errTyp string
	reason string
}

// actionMeta is an action line's metadata: what the shippers send.
type actionMeta struct {
	Index *string `json:"_index"`
	ID    *string `json:"_id"`
}

// parseBulk reads a bulk body: an action line, then for index and create
// the document line. A line that cannot be read becomes an item error
// and the reading goes on, so one bad line never costs its neighbours:
// an unreadable action line is paired with the next line unless that
// line is itself an action.
func parseBulk(tenant, defaultIndex string, body []byte, now time.Time) []item {
	lines := splitLines(body)
	var items []item
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		action, meta, err := parseAction(line)
		if err != nil {
			it := item{action: "index", index: defaultIndex, status: 400, errTyp: "illegal_argument_exception",
				reason: fmt.Sprintf("malformed action/metadata line [%d]: %v", i+1, err)}
			if i+1 < len(lines) {
				if _, _, err := parseAction(lines[i+1]); err != nil {
					i++ // the document of the unreadable action
				}
			}
			items = append(items, it)
			continue
		}
		it := item{action: action, index: defaultIndex}
		if meta.Index != nil {
			it.index = *meta.Index
		}
		if meta.ID != nil {
			it.id = *meta.ID
		}
		hasSource := action != "delete"
		var src []byte
		if hasSource {
			if i+1 >= len(lines) {
				it.status, it.errTyp, it.reason = 400, "action_request_validation_exception", fmt.Sprintf("line [%d]: the %s action has no document line after it", i+1, action)
				items = append(items, it)
				break
			}
			i++
			src = lines[i]
		}
		switch {
		case action == "update" || action == "delete":
			it.status, it.errTyp, it.reason = 400, "action_request_validation_exception", fmt.Sprintf("line [%d]: logs are append-only: Vigil takes index and create, not %s", i+1, action)
		case it.index == "":
			it.status, it.errTyp, it.reason = 400, "action_request_validation_exception", fmt.Sprintf("line [%d]: index is missing: name it in the action or the URL", i+1)
		default:
			rec, err := record(tenant, it.index, src, now)
			if err != nil {
				it.status, it.errTyp, it.reason = 400, "document_parsing_exception", fmt.Sprintf("line [%d]: %v", i+1, err)
				break
			}
			it.rec, it.status = &rec, 201
			if it.id == "" {
				it.id = idOf(rec.ID)
			} else {
				rec.Attributes = append(rec.Attributes, store.KeyValue{Key: "elasticsearch.id", Value: it.id})
			}
		}
		items = append(items, it)
	}
	return items
}

// splitLines splits NDJSON into its non-blank lines.
func splitLines(body []byte) [][]byte {
	var out [][]byte
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(out, line)
		}
	}
	return out
}

// parseAction reads {"index": {...}}: one key, the action, whose value is
// its metadata object.
func parseAction(line []byte) (string, actionMeta, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return "", actionMeta{}, fmt.Errorf("not a JSON object: %v", err)
	}
	if len(m) != 1 {
		return "", actionMeta{}, fmt.Errorf("want one action (index, create, update or delete), got %d keys", len(m))
	}
	for action, raw := range m {
		switch action {
		case "index", "create", "update", "delete":
		default:
			return "", actionMeta{}, fmt.Errorf("unknown action %q: want index, create, update or delete", action)
		}
		var meta actionMeta
		if err := json.Unmarshal(raw, &meta); err != nil {
			return "", actionMeta{}, fmt.Errorf("the %s action's metadata is not an object of strings: %v", action, err)
		}
		return action, meta, nil
	}
	panic("unreachable")
}

// idOf is the _id a created record is answered with when the sender
// named none.
func idOf(id uint64) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(id >> (56 - 8*i))
	}
	return hex.EncodeToString(b[:])
}

// bulkResponse is Elasticsearch's answer to a bulk request.
type bulkResponse struct {
	Took   int64                     `json:"took"`
	Errors bool                      `json:"errors"`
	Items  []map[string]itemResponse `json:"items"`
}

type itemResponse struct {
	Index       string     `json:"_index"`
	ID          *string    `json:"_id"`
	Version     int        `json:"_version,omitempty"`
	Result      string     `json:"result,omitempty"`
	Shards      *shards    `json:"_shards,omitempty"`
	SeqNo       *int64     `json:"_seq_no,omitempty"`
	PrimaryTerm int        `json:"_primary_term,omitempty"`
	Status      int        `json:"status"`
	Error       *errorBody `json:"error,omitempty"`
}

type shards struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Failed     int `json:"failed"`
}

type errorBody struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// response is the answer to items once the accepted ones are durable.
func response(items []item, took time.Duration) bulkResponse {
	resp := bulkResponse{Took: took.Milliseconds(), Items: make([]map[string]itemResponse, len(items))}
	for i, it := range items {
		r := itemResponse{Index: it.index, Status: it.status}
		if it.id != "" {
			id := it.id
			r.ID = &id
		}
		if it.rec != nil {
			seq := int64(0)
			r.Version, r.Result, r.Shards, r.SeqNo, r.PrimaryTerm = 1, "created", &shards{Total: 1, Successful: 1}, &seq, 1
		} else {
			resp.Errors = true
			r.Error = &errorBody{Type: it.errTyp, Reason: it.reason}
		}
		resp.Items[i] = map[string]itemResponse{it.action: r}
	}
	return resp
}
