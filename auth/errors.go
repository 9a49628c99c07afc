package auth

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ErrNoCredential is what an Authenticator returns when the request
// carries no credential of its kind: the chain asks the next one.
var ErrNoCredential = errors.New("no credential")

// Code is how a request was refused.
type Code int

const (
	CodeUnauthenticated Code = iota + 1 // no credential, or a bad one
	CodeForbidden                       // a credential without the role or tenant needed
	CodeBadRequest                      // the request names its tenant wrongly
	CodeRateLimited                     // over a rate limit of the auth: section
	CodeUnavailable                     // what vouches for credentials (the OpenID provider) does not answer
)

// Error is a refusal, with a message safe to show the client: it never
// holds a credential.
type Error struct {
	Code Code
	Msg  string
	// RetryAfter is when a rate-limited request may be sent again.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Msg }

var httpStatus = map[Code]int{CodeUnauthenticated: http.StatusUnauthorized, CodeForbidden: http.StatusForbidden, CodeBadRequest: http.StatusBadRequest,
	CodeRateLimited: http.StatusTooManyRequests, CodeUnavailable: http.StatusServiceUnavailable}

var grpcCode = map[Code]codes.Code{CodeUnauthenticated: codes.Unauthenticated, CodeForbidden: codes.PermissionDenied, CodeBadRequest: codes.InvalidArgument,
	CodeRateLimited: codes.ResourceExhausted, CodeUnavailable: codes.Unavailable}

// HTTPStatus is the refusal's HTTP status.
func (e *Error) HTTPStatus() int { return httpStatus[e.Code] }

// GRPCStatus is the refusal's gRPC status; status.FromError finds it. A
// rate limit's carries RetryInfo: OTLP exporters retry RESOURCE_EXHAUSTED
// only when the server says when.
func (e *Error) GRPCStatus() *status.Status {
	st := status.New(grpcCode[e.Code], e.Msg)
	if e.RetryAfter > 0 {
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)}); err == nil {
			return d
		}
	}
	return st
}

// retryAfterSeconds is RetryAfter as an HTTP Retry-After: whole seconds,
// at least one.
func (e *Error) retryAfterSeconds() string {
	return strconv.Itoa(max(1, int(math.Ceil(e.RetryAfter.Seconds()))))
}

func unauthenticated(msg string) *Error { return &Error{Code: CodeUnauthenticated, Msg: msg} }
