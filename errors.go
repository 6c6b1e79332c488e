package atlasx509

import (
	"errors"
	"fmt"
)

// Kind classifies an Error so that the HTTP layer can pick a status from one
// table. The zero value is KindInternal: an error nobody classified is a fault.
type Kind uint8

// Error kinds.
const (
	KindInternal             Kind = iota // a fault of the server: 500, logged, never shown
	KindInvalid                          // the request is wrong: 400
	KindUnauthenticated                  // no or bad credentials: 401 with a challenge
	KindUnauthorized                     // authenticated but lacking the role: 401, as Atlas answers
	KindForbidden                        // refused for a reason other than roles (limits, access lists): 403
	KindNotFound                         // 404
	KindConflict                         // 409
	KindNotAcceptable                    // 406
	KindGone                             // 410
	KindTooManyRequests                  // 429
	KindMethodNotAllowed                 // 405
	KindUnsupportedMediaType             // 415
)

// Error is the one error type whose text may reach a client. Code is the Atlas
// errorCode exactly as Atlas spells it, Detail the sentence shown to the
// client and Params Atlas's "parameters". Err is the cause: it is logged and
// never sent.
type Error struct {
	Kind   Kind
	Code   string
	Detail string
	Params []any
	// Fields lists per-attribute problems (Atlas badRequestDetail.fields).
	Fields []FieldError
	Err    error
}

// FieldError names one attribute of a request body and what is wrong with it.
type FieldError struct {
	Field       string
	Description string
}

// Error implements error. It includes the cause for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Detail, e.Err)
	}
	return e.Code + ": " + e.Detail
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error of the given kind and code. The detail is formatted
// from format and params, and params become the Atlas "parameters" list.
func Errorf(kind Kind, code, format string, params ...any) *Error {
	return &Error{Kind: kind, Code: code, Detail: fmt.Sprintf(format, params...), Params: params}
}

// ErrorKind reports the kind of err: the kind of the first *Error in its chain,
// or KindInternal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorCode reports the Atlas code of the first *Error in err's chain, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
