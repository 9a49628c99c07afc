// Package client talks to a running Vigil's HTTP API (/api/v1), for the
// commands that ask a server instead of opening the store (the embedded
// store is open in one process only). It sends the tenant as
// X-Scope-OrgID, bounds every call with a timeout, and turns the API's
// {"error": ...} answers into an *APIError that quotes them.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one call when Options.Timeout is zero.
const DefaultTimeout = time.Minute

// maxAnswerBytes bounds what one answer may make the client read.
const maxAnswerBytes = 256 << 20

// Options configure a Client.
type Options struct {
	// Tenant is sent as X-Scope-OrgID; empty sends none, which reads the
	// default tenant (or the one the credentials name).
	Tenant string
	// Timeout bounds one call, the answer's body included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Token is an API token sent as Authorization: Bearer; empty sends
	// none (a server with --auth.disabled).
	Token string
}

// Client calls one Vigil server. It is safe for concurrent use.
type Client struct {
	server string   // as given, for messages
	base   *url.URL // without a trailing slash
	opts   Options
}

// New returns a client of the server at rawURL (http://host:8080, or a
// prefix under which a proxy serves Vigil).
func New(rawURL string, opts Options) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q is not a server URL: want one such as http://vigil:8080", rawURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	return &Client{server: strings.TrimSuffix(rawURL, "/"), base: u, opts: opts}, nil
}

// APIError is an answer other than 200 OK: its status, and the message of
// the API's {"error": ...} body (or the start of a body that is not one,
// from a proxy for instance).
type APIError struct {
	Server     string
	StatusCode int
	Status     string // "400 Bad Request"
	Message    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s answered %s: %s", e.Server, e.Status, e.Message)
}

// Get asks path (e.g. /api/v1/recommendations) with the query and decodes
// the JSON answer into out.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, query, nil, nil, out)
}

// Post sends body as JSON to path, with the headers, and decodes the JSON
// answer into out.
func (c *Client) Post(ctx context.Context, path string, header http.Header, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("cannot encode the request to %s: %w", path, err)
	}
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return c.do(ctx, http.MethodPost, path, nil, h, bytes.NewReader(b), out)
}

// PostStream sends body as it is read (a bill of any size) to path with
// the query, as contentType, and decodes the JSON answer into out.
func (c *Client) PostStream(ctx context.Context, path string, query url.Values, contentType string, body io.Reader, out any) error {
	return c.do(ctx, http.MethodPost, path, query, http.Header{"Content-Type": {contentType}}, body, out)
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, header http.Header, body io.Reader, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	if body == nil {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("cannot ask %s: %w", c.server, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if c.opts.Tenant != "" {
		req.Header.Set("X-Scope-OrgID", c.opts.Tenant)
	}
	if c.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return c.callError(ctx, "cannot ask", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return c.callError(ctx, "cannot read the answer of", err)
	}
	if len(answer) > maxAnswerBytes {
		return fmt.Errorf("the answer of %s to %s is over %d MiB", c.server, path, maxAnswerBytes>>20)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(fmt.Sprintf("%.200s", answer))
		if json.Unmarshal(answer, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &APIError{Server: c.server, StatusCode: resp.StatusCode, Status: resp.Status, Message: msg}
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("%s answered %s with what is not the JSON expected (%v): %.200s", c.server, path, err, answer)
	}
	return nil
}

// callError says a call failed, and when it ran out of time, after how
// long.
func (c *Client) callError(ctx context.Context, what string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s did not answer within %s: %w", c.server, c.opts.Timeout, err)
	}
	return fmt.Errorf("%s %s: %w", what, c.server, err)
}
