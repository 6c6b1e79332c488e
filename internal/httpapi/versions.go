package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/atlasx509/atlasx509/internal/app"
)

// resourceVersion is one version of an operation's representation in the
// versioned API (v2), named by its date. A version may be deprecated (the
// answer then carries Deprecation and Sunset headers) or gone (410).
type resourceVersion struct {
	date       string    // YYYY-MM-DD
	deprecated time.Time // zero when not deprecated
	sunset     time.Time // zero when no removal date is announced
	gone       bool
}

// v2Base is the one version of most operations atlasx509 serves, as in Atlas.
var v2Base = []resourceVersion{{date: "2023-01-01"}}

// v2ServiceAccounts is the one version of Atlas's service account operations.
var v2ServiceAccounts = []resourceVersion{{date: "2024-08-05"}}

// v2CloudUsers is the version of Atlas's listGroupUsers and listOrgUsers
// that its spec keeps (the 2023-01-01 one is deprecated and no longer in
// the spec).
var v2CloudUsers = []resourceVersion{{date: "2025-02-19"}}

// v2Clusters is the version of Atlas's listClusters that its spec keeps.
var v2Clusters = []resourceVersion{{date: "2024-08-05"}}

const (
	vndPrefix = "application/vnd.atlas."
	vndSuffix = "+json"
	// v1ContentType is the Content-Type of every v1.0 answer and of every error.
	v1ContentType = "application/json"
)

type versionKey struct{}

// servedVersion returns the resource version a v2 request resolved to, or "".
func servedVersion(r *http.Request) string {
	v, _ := r.Context().Value(versionKey{}).(string)
	return v
}

// contentType is the Content-Type of a success answer to r: the versioned
// media type on v2, echoing the served version, and application/json on v1.0.
func contentType(r *http.Request) string {
	if v := servedVersion(r); v != "" {
		return vndPrefix + v + vndSuffix + ";charset=utf-8"
	}
	return v1ContentType
}

// versioned resolves the resource version of a v2 request from its Accept
// header: the newest of versions (oldest first) on or before the requested
// date.
func versioned(versions []resourceVersion, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		requested, ok := acceptedDate(r.Header.Values("Accept"))
		if !ok {
			return app.ErrInvalidVersionDate()
		}
		var chosen *resourceVersion
		for i := range versions {
			if versions[i].date <= requested {
				chosen = &versions[i]
			}
		}
		if chosen == nil {
			return app.ErrInvalidVersionDate()
		}
		if chosen.gone {
			path := strings.TrimPrefix(r.URL.Path, "/")
			return app.ErrVersionGone(chosen.date, path)
		}
		if !chosen.deprecated.IsZero() {
			w.Header().Set("Deprecation", chosen.deprecated.UTC().Format(http.TimeFormat))
			if !chosen.sunset.IsZero() {
				w.Header().Set("Sunset", chosen.sunset.UTC().Format(http.TimeFormat))
			}
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), versionKey{}, chosen.date)))
	}
}

// acceptedDate finds the version date in Accept headers: the first media
// range application/vnd.atlas.YYYY-MM-DD+json with a real calendar date.
func acceptedDate(values []string) (string, bool) {
	for _, v := range values {
		for _, mr := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(mr, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if !strings.HasPrefix(mt, vndPrefix) || !strings.HasSuffix(mt, vndSuffix) {
				continue
			}
			date := mt[len(vndPrefix) : len(mt)-len(vndSuffix)]
			if t, err := time.Parse("2006-01-02", date); err == nil && t.Format("2006-01-02") == date {
				return date, true
			}
		}
	}
	return "", false
}
