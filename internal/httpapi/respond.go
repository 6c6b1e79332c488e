package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
)

// statusOf maps an error kind to its HTTP status: the one table.
var statusOf = map[atlasx509.Kind]int{
	atlasx509.KindInternal:             http.StatusInternalServerError,
	atlasx509.KindInvalid:              http.StatusBadRequest,
	atlasx509.KindUnauthenticated:      http.StatusUnauthorized,
	atlasx509.KindUnauthorized:         http.StatusUnauthorized,
	atlasx509.KindForbidden:            http.StatusForbidden,
	atlasx509.KindNotFound:             http.StatusNotFound,
	atlasx509.KindConflict:             http.StatusConflict,
	atlasx509.KindNotAcceptable:        http.StatusNotAcceptable,
	atlasx509.KindGone:                 http.StatusGone,
	atlasx509.KindTooManyRequests:      http.StatusTooManyRequests,
	atlasx509.KindMethodNotAllowed:     http.StatusMethodNotAllowed,
	atlasx509.KindUnsupportedMediaType: http.StatusUnsupportedMediaType,
}

// writeError writes err as Atlas's error body. Only *atlasx509.Error text
// reaches the client; anything else is logged and answered with a fixed 500.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	logState(r).err = err
	var authErr *app.AuthError
	if errors.As(err, &authErr) {
		s.writeUnauthenticated(w, r, authErr)
		return
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		err = app.ErrBodyTooLarge(maxErr.Limit)
	}
	var e *atlasx509.Error
	if !errors.As(err, &e) || e.Kind == atlasx509.KindInternal {
		e = app.ErrUnexpected(nil)
	}
	status := statusOf[e.Kind]
	body := atlasapi.ApiError{Detail: e.Detail, Error: status, ErrorCode: e.Code, Parameters: e.Params, Reason: http.StatusText(status)}
	if body.Parameters == nil {
		body.Parameters = []any{}
	}
	for _, f := range e.Fields {
		if body.BadRequestDetail == nil {
			body.BadRequestDetail = &atlasapi.BadRequestDetail{}
		}
		body.BadRequestDetail.Fields = append(body.BadRequestDetail.Fields, atlasapi.FieldViolation{Field: f.Field, Description: f.Description})
	}
	writeErrorBody(w, r, status, body, queryBool(r, "pretty"))
}

// writeUnauthenticated answers 401 with a fresh Digest challenge, as Atlas does.
func (s *server) writeUnauthenticated(w http.ResponseWriter, r *http.Request, ae *app.AuthError) {
	w.Header().Add("WWW-Authenticate", s.app.DigestChallenge(ae.Stale))
	if _, ok := bearerToken(r); ok {
		w.Header().Add("WWW-Authenticate", `Bearer realm="MMS Public API", error="invalid_token"`)
	}
	// Atlas pretty-prints this one body whatever the query says. It never
	// changes, and every Digest client is answered it once per request
	// (its first, unauthenticated, try): it is encoded once.
	b := unauthenticatedBody()
	h := w.Header()
	h.Set("Content-Type", v1ContentType)
	h.Set("X-Error-Code", app.ErrUnauthenticated().Code)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(b)
}

// unauthenticatedBody is the body of every 401 answer.
var unauthenticatedBody = sync.OnceValue(func() []byte {
	e := app.ErrUnauthenticated()
	b, err := marshal(atlasapi.ApiError{Detail: e.Detail, Error: http.StatusUnauthorized,
		ErrorCode: e.Code, Parameters: []any{}, Reason: http.StatusText(http.StatusUnauthorized)}, true)
	if err != nil {
		panic(err) // a fixed value that encodes
	}
	return b
})

func writeErrorBody(w http.ResponseWriter, r *http.Request, status int, body atlasapi.ApiError, pretty bool) {
	b, err := marshal(body, pretty)
	if err != nil {
		b = []byte(`{"detail":"Unexpected error.","error":500,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Internal Server Error"}`)
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", v1ContentType) // errors are never versioned
	h.Set("X-Error-Code", body.ErrorCode)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeJSON writes v with status, honouring envelope and pretty. The body is
// encoded before the header is written, so an encoding fault is a clean 500.
func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	if queryBool(r, "envelope") {
		// Under envelope the status travels in the body and the status line
		// says 200, for clients that cannot read the status line.
		switch p := v.(type) {
		case enveloper:
			v = p.withStatus(status)
		default:
			v = atlasapi.Envelope{Content: v, Status: status}
		}
		status = http.StatusOK
	}
	b, err := marshal(v, queryBool(r, "pretty"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType(r))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, err = w.Write(b)
	if err != nil {
		logState(r).err = err // the client went away; nothing more to write
	}
	return nil
}

// writeNoContent answers 204 (or, under envelope, 200 with the status in the body).
func (s *server) writeNoContent(w http.ResponseWriter, r *http.Request) error {
	if queryBool(r, "envelope") {
		return s.writeJSON(w, r, http.StatusNoContent, nil)
	}
	if servedVersion(r) != "" {
		w.Header().Set("Content-Type", contentType(r)) // as Atlas does on v2, even without a body
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// enveloper is a list answer, which under envelope gains a status field
// instead of being wrapped.
type enveloper interface {
	withStatus(status int) any
}

type paginated[T any] atlasapi.Paginated[T]

func (p paginated[T]) withStatus(status int) any {
	p.Status = &status
	return atlasapi.Paginated[T](p)
}

func marshal(v any, pretty bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if !pretty {
		b = bytes.TrimSuffix(b, []byte("\n"))
	}
	return b, nil
}

// queryBool reads a boolean query parameter that was validated by checkQuery.
func queryBool(r *http.Request, name string) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return v
}
