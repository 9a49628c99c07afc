package auth

import (
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
)

// Error is a refusal, with a message safe to show the client: it never
// holds a credential.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

var httpStatus = map[Code]int{CodeUnauthenticated: http.StatusUnauthorized, CodeForbidden: http.StatusForbidden, CodeBadRequest: http.StatusBadRequest}

var grpcCode = map[Code]codes.Code{CodeUnauthenticated: codes.Unauthenticated, CodeForbidden: codes.PermissionDenied, CodeBadRequest: codes.InvalidArgument}

// HTTPStatus is the refusal's HTTP status.
func (e *Error) HTTPStatus() int { return httpStatus[e.Code] }

// GRPCStatus is the refusal's gRPC status; status.FromError finds it.
func (e *Error) GRPCStatus() *status.Status { return status.New(grpcCode[e.Code], e.Msg) }

func unauthenticated(msg string) *Error { return &Error{Code: CodeUnauthenticated, Msg: msg} }
