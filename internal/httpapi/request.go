package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/atlasapi"
	"github.com/atlasx509/atlasx509/internal/auth"
)

// Atlas's list defaults and bounds.
const (
	defaultItemsPerPage = 100
	maxItemsPerPage     = 500
)

// decodeBody decodes a JSON request body into v the way Atlas does: unknown
// attributes are refused, and every failure is an Atlas error naming what is
// wrong. An empty body decodes as {} when allowEmpty is set.
func decodeBody(r *http.Request, v any, allowEmpty bool) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return err
		}
		return app.ErrMalformedJSON(nil)
	}
	if len(bytes.TrimSpace(body)) > 0 && !jsonMediaType(r.Header.Get("Content-Type")) {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			ct = "(none)"
		}
		return app.ErrUnsupportedMediaType(ct)
	}
	return decodeJSON(body, v, allowEmpty)
}

// atlasJSONType matches Atlas's versioned JSON media types.
var atlasJSONType = regexp.MustCompile(`^application/vnd\.atlas\.[0-9]{4}-[0-9]{2}-[0-9]{2}\+json$`)

// jsonMediaType reports whether a Content-Type is JSON as Atlas takes it:
// application/json or application/vnd.atlas.YYYY-MM-DD+json, with no
// parameter but charset=utf-8.
func jsonMediaType(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" && !atlasJSONType.MatchString(mt) {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

func decodeJSON(body []byte, v any, allowEmpty bool) error {
	// encoding/json would replace invalid UTF-8 with U+FFFD silently.
	if !utf8.Valid(body) {
		return app.ErrMalformedJSON(errors.New("the body is not UTF-8"))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return app.ErrMalformedJSON(nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return app.ErrMalformedJSON(nil)
		}
		if key, bad := misnamedKey(body, reflect.TypeOf(v)); bad {
			return app.ErrInvalidAttribute(key, errMisnamed)
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return app.ErrInvalidJSONAttribute(typeErr.Field, err)
	case errors.As(err, &typeErr):
		return app.ErrInvalidJSON(err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return app.ErrInvalidAttribute(field, err)
	default:
		return app.ErrMalformedJSON(err)
	}
}

// checkQuery validates the query parameters every route accepts.
func checkQuery(r *http.Request) error {
	q := r.URL.Query()
	for _, name := range []string{"envelope", "pretty", "includeCount"} {
		if vs, ok := q[name]; ok {
			if _, err := strconv.ParseBool(vs[0]); err != nil {
				return invalidQuery(name, vs[0])
			}
		}
	}
	return nil
}

func invalidQuery(name, value string) error {
	return app.ErrInvalidQueryParameter(name, fmt.Errorf("value %q", value))
}

// listParams are the validated list query parameters of a request.
type listParams struct {
	app.ListOptions
	IncludeCount bool
}

func parseList(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	lp := listParams{ListOptions: app.ListOptions{PageNum: 1, ItemsPerPage: defaultItemsPerPage}, IncludeCount: true}
	if v := q.Get("pageNum"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lp, invalidQuery("pageNum", v)
		}
		// 0 is the first page: Atlas answers the Terraform provider's
		// mongodbatlas_alert_configurations, which sends pageNum=0 by
		// default (its acceptance test against Atlas reads a page so).
		lp.PageNum = max(n, 1)
	}
	if v := q.Get("itemsPerPage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxItemsPerPage {
			return lp, invalidQuery("itemsPerPage", v)
		}
		lp.ItemsPerPage = n
	}
	if v := q.Get("includeCount"); v != "" {
		lp.IncludeCount, _ = strconv.ParseBool(v)
	}
	if lp.PageNum > 1<<20 {
		return lp, invalidQuery("pageNum", q.Get("pageNum"))
	}
	return lp, nil
}

// baseURL is the configured external URL of the server (Options.ExternalURL),
// never taken from the request: a Host header is the client's to choose.
func baseURL(r *http.Request) string {
	if u, ok := r.Context().Value(baseURLKey).(string); ok {
		return u
	}
	return "http://localhost"
}

// selfLink is the link to the resource at path (already escaped).
func selfLink(r *http.Request, escapedPath string) []atlasapi.Link {
	return []atlasapi.Link{{Href: baseURL(r) + escapedPath, Rel: "self"}}
}

// listLinks builds the self, previous and next links of a list page, in the
// query layouts Atlas uses.
func listLinks(r *http.Request, lp listParams, total int) []atlasapi.Link {
	base := baseURL(r) + r.URL.EscapedPath()
	ic := strconv.FormatBool(lp.IncludeCount)
	ipp := strconv.Itoa(lp.ItemsPerPage)
	links := []atlasapi.Link{{Href: base + "?includeCount=" + ic + "&pageNum=" + strconv.Itoa(lp.PageNum) + "&itemsPerPage=" + ipp, Rel: "self"}}
	if lp.PageNum > 1 {
		links = append(links, atlasapi.Link{Href: base + "?includeCount=" + ic + "&itemsPerPage=" + ipp + "&pageNum=" + strconv.Itoa(lp.PageNum-1), Rel: "previous"})
	}
	if lp.PageNum*lp.ItemsPerPage < total {
		links = append(links, atlasapi.Link{Href: base + "?includeCount=" + ic + "&itemsPerPage=" + ipp + "&pageNum=" + strconv.Itoa(lp.PageNum+1), Rel: "next"})
	}
	return links
}

// listPage builds a list answer.
func listPage[T any](r *http.Request, lp listParams, results []T, total int) paginated[T] {
	if results == nil {
		results = []T{}
	}
	p := paginated[T]{Links: listLinks(r, lp, total), Results: results}
	if lp.IncludeCount {
		p.TotalCount = &total
	}
	return p
}

// viewPage builds a list answer from items, each turned into its wire
// view.
func viewPage[T, V any](r *http.Request, lp listParams, items []T, total int, view func(*http.Request, T) V) paginated[V] {
	views := make([]V, 0, len(items))
	for _, it := range items {
		views = append(views, view(r, it))
	}
	return listPage(r, lp, views, total)
}

// bearerToken returns the token of an `Authorization: Bearer` header.
func bearerToken(r *http.Request) (string, bool) {
	return auth.ParseBearer(r.Header.Get("Authorization"))
}

// pathEscape escapes one path segment as Atlas's links show it: "/" becomes
// %2F while "$" and ":" stay as they are.
func pathEscape(s string) string { return url.PathEscape(s) }

// apiPrefix returns the version prefix (such as /api/atlas/v1.0) the request
// was addressed to, for the links of its answer.
func apiPrefix(r *http.Request) string {
	for _, p := range versionPrefixes {
		if strings.HasPrefix(r.URL.Path, p+"/") {
			return p
		}
	}
	return versionPrefixes[0]
}
