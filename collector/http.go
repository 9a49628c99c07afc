package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-dev/vigil/tenant"
)

// ErrTooLarge is returned for a body over the size limits, compressed or
// decompressed (HTTP 413).
var ErrTooLarge = errors.New("request too large")

// ErrRateLimited is returned when a tenant exceeds its ingest rate.
var ErrRateLimited = errors.New("tenant ingest rate limit exceeded, retry later")

// BadRequestError marks an error as the client's fault (HTTP 400, gRPC
// INVALID_ARGUMENT); its message says what was wrong.
type BadRequestError struct{ Err error }

func (e *BadRequestError) Error() string { return e.Err.Error() }
func (e *BadRequestError) Unwrap() error { return e.Err }

// BadRequest wraps a formatted message as a BadRequestError.
func BadRequest(format string, args ...any) error {
	return &BadRequestError{Err: fmt.Errorf(format, args...)}
}

// BodyLimits bound what one request may carry.
type BodyLimits struct {
	MaxBytes        int64 // as sent (compressed)
	MaxDecodedBytes int64 // after Content-Encoding is undone
}

// ReadBody reads a request body within the limits, undoing gzip or zstd
// Content-Encoding. A decompression bomb stops at MaxDecodedBytes with
// ErrTooLarge instead of filling memory.
func ReadBody(r *http.Request, lim BodyLimits) ([]byte, error) {
	if r.ContentLength > lim.MaxBytes {
		return nil, fmt.Errorf("%w: body of %d bytes, the limit is %d", ErrTooLarge, r.ContentLength, lim.MaxBytes)
	}
	raw, err := readLimited(r.Body, lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, BadRequest("cannot read gzip body: %v", err)
		}
		return readDecoded(zr, lim.MaxDecodedBytes, "gzip")
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(raw), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(lim.MaxDecodedBytes)))
		if err != nil {
			return nil, BadRequest("cannot read zstd body: %v", err)
		}
		defer zr.Close()
		return readDecoded(zr, lim.MaxDecodedBytes, "zstd")
	default:
		return nil, &BadRequestError{Err: fmt.Errorf("unsupported Content-Encoding %q (want gzip, zstd or none)", enc)}
	}
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, BadRequest("cannot read body: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: body over %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

func readDecoded(r io.Reader, limit int64, enc string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s body decompresses to over %d bytes", ErrTooLarge, enc, limit)
	}
	if err != nil {
		return nil, BadRequest("cannot decompress %s body: %v", enc, err)
	}
	return b, nil
}

// retryAfterSeconds is what 429 and 503 answers suggest.
const retryAfterSeconds = 5

// HTTPStatus maps an ingest error to its HTTP status.
func HTTPStatus(err error) int {
	var bad *BadRequestError
	var badTenant *tenant.InvalidError
	switch {
	case errors.As(err, &bad), errors.As(err, &badTenant):
		return http.StatusBadRequest
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBusy), errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrClosed), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteHTTPError answers with the error's status and message; 429 and 503
// carry Retry-After.
func WriteHTTPError(w http.ResponseWriter, err error) {
	code := HTTPStatus(err)
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	http.Error(w, err.Error(), code)
}

// GRPCError maps an ingest error to a gRPC status.
func GRPCError(err error) error {
	var bad *BadRequestError
	var badTenant *tenant.InvalidError
	switch {
	case errors.As(err, &bad), errors.As(err, &badTenant):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrTooLarge):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, ErrBusy), errors.Is(err, ErrRateLimited):
		return retryable(codes.ResourceExhausted, err)
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrClosed):
		return retryable(codes.Unavailable, err)
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// retryable attaches RetryInfo: OTLP exporters retry RESOURCE_EXHAUSTED only
// when the server says when to.
func retryable(code codes.Code, err error) error {
	st := status.New(code, err.Error())
	if d, e := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfterSeconds * time.Second)}); e == nil {
		st = d
	}
	return st.Err()
}
