// Package console serves the web console of atlasx509 under /console/ on
// the API listener: server-rendered pages (html/template, every asset
// embedded) that sign a person in with an API key or a service account and
// then do their work through the same use cases of package app as the API,
// as the signed-in credential: roles, limits, audit and events apply
// unchanged.
//
// Security: the session lives in the store (only its token's hash), in an
// HttpOnly, SameSite=Strict cookie (Secure over TLS); every form carries a
// CSRF token derived from the session token and compared in constant time;
// every page is sent with a strict Content-Security-Policy (no inline
// script), X-Frame-Options: DENY, Referrer-Policy: no-referrer and
// Cache-Control: no-store. Failed sign-ins count against the API's
// per-address limit of failed authentications.
package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/atlasx509/atlasx509"
	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/authz"
	"github.com/atlasx509/atlasx509/internal/httpapi"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options configures the console.
type Options struct {
	App *app.App
	// Secure marks the session cookie Secure (the server answers HTTPS).
	Secure bool
	Logger *slog.Logger
}

// Cookie names. With Secure the session cookie takes the __Host- prefix,
// which browsers accept only from HTTPS, for the host alone, on path /.
const (
	cookieName       = "atlasx509_console"
	secureCookieName = "__Host-atlasx509_console"
	signInCookieName = "atlasx509_console_signin"
)

// ContentSecurityPolicy is the policy of every console answer: nothing but
// the console's own stylesheet, script and images, no inline script or
// style, forms posting only to the console, and no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type handler struct {
	app    *app.App
	gate   httpapi.ConsoleGate
	secure bool
	log    *slog.Logger
	pages  map[string]*template.Template
	mux    *http.ServeMux
}

// New returns the builder of the console handler that httpapi.Options.Console takes.
func New(opts Options) func(httpapi.ConsoleGate) http.Handler {
	pages := parsePages()
	return func(gate httpapi.ConsoleGate) http.Handler {
		h := &handler{app: opts.App, gate: gate, secure: opts.Secure, log: opts.Logger, pages: pages, mux: http.NewServeMux()}
		if h.log == nil {
			h.log = slog.New(slog.DiscardHandler)
		}
		h.routes()
		return h
	}
}

func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := make(map[string]*template.Template)
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		pages[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n))
	}
	return pages
}

// ServeHTTP sets the security headers of every answer and routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// session is a signed-in request: its principal and CSRF token.
type session struct {
	p     atlasx509.Principal
	token string
	csrf  string
}

// csrfToken is the CSRF token of the session of token: an HMAC of a fixed
// label under the session token, so it is tied to the session and needs no
// storage.
func csrfToken(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("atlasx509 console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *handler) cookieName() string {
	if h.secure {
		return secureCookieName
	}
	return cookieName
}

// authed wraps a page that needs a session. A POST must also carry the
// session's CSRF token. Without a session, a GET goes to the sign-in page
// and anything else is refused.
func (h *handler) authed(op string, fn func(w http.ResponseWriter, r *http.Request, s *session) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie(h.cookieName())
		token := ""
		if c != nil {
			token = c.Value
		}
		p, err := h.app.ConsoleSession(r.Context(), token, h.gate.ClientAddr(r))
		var ae *app.AuthError
		switch {
		case errors.As(err, &ae):
			if token != "" {
				h.clearCookie(w)
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
				return
			}
			h.renderError(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		case err != nil: // off the access list, or a fault
			h.renderUseCaseError(w, r, nil, err)
			return
		}
		s := &session{p: p, token: token, csrf: csrfToken(token)}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := r.ParseForm(); err != nil {
				h.renderError(w, r, s, http.StatusBadRequest, "The form could not be read.")
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) != 1 {
				h.renderError(w, r, s, http.StatusForbidden, "The form's security token is missing or wrong. Reload the page and try again.")
				return
			}
		}
		// The project of the request: in the path, or chosen in the form
		// (assigning a credential to a project), so the audit names it.
		groupID := r.PathValue("groupId")
		if groupID == "" && r.Method == http.MethodPost {
			groupID = strings.TrimSpace(r.PostFormValue("groupId"))
		}
		if err := h.gate.Begin(r, p, "console."+op, groupID); err != nil {
			h.renderFault(w, r, s, err)
			return
		}
		if err := fn(w, r, s); err != nil {
			h.renderUseCaseError(w, r, s, err)
		}
	})
}

func (h *handler) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: token, Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(app.ConsoleLifetime.Seconds())})
}

func (h *handler) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// view is what every template gets.
type view struct {
	Title   string
	s       *session
	OrgID   string
	GroupID string
	// Notice is a confirmation shown at the top of the page.
	Notice string
	// Errs holds Atlas's detail text by "form.field" ("form." for the
	// form as a whole).
	Errs map[string]string
	// Form holds the values posted, to fill a form again after an error.
	Form map[string]string
	Data any
}

// SignedIn reports whether the page is shown to a signed-in caller.
func (v *view) SignedIn() bool { return v.s != nil }

// CSRF is the session's CSRF token, for the hidden field of every form.
func (v *view) CSRF() string {
	if v.s == nil {
		return ""
	}
	return v.s.csrf
}

// Who names the signed-in credential.
func (v *view) Who() string {
	if v.s == nil {
		return ""
	}
	if v.s.p.PublicKey != "" {
		return "API key " + v.s.p.PublicKey
	}
	return "service account " + v.s.p.ID
}

// Can reports whether the caller holds perm over the page's project (or
// its organization when the page has none): the same role table the use
// cases check, used only to hide what would be refused.
func (v *view) Can(perm string) bool {
	if v.s == nil {
		return false
	}
	return authz.Allowed(v.s.p, authz.Permission(perm), v.OrgID, v.GroupID)
}

// CanIn is Can over the project groupID of the page's organization.
func (v *view) CanIn(perm, groupID string) bool {
	if v.s == nil {
		return false
	}
	return authz.Allowed(v.s.p, authz.Permission(perm), v.OrgID, groupID)
}

// Err returns the error shown next to field of form ("" for the form).
func (v *view) Err(form, field string) string { return v.Errs[form+"."+field] }

// Value returns the value posted in field, when the form is shown again.
func (v *view) Value(field string) string { return v.Form[field] }

func (h *handler) newView(s *session, title string) *view {
	v := &view{Title: title, s: s, Errs: map[string]string{}, Form: map[string]string{}}
	if s != nil {
		v.OrgID = s.p.OrgID
	}
	return v
}

// render writes page with status.
func (h *handler) render(w http.ResponseWriter, status int, page string, v *view) {
	t, ok := h.pages[page]
	if !ok {
		panic("console: no page " + page)
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		h.log.Error("console: rendering a page", "page", page, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// renderError shows a page with one message.
func (h *handler) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	v := h.newView(s, "Error")
	v.Data = msg
	h.render(w, status, "error", v)
}

// renderFault shows a server fault without its text, which is logged.
func (h *handler) renderFault(w http.ResponseWriter, r *http.Request, s *session, err error) {
	h.log.Error("console: fault", "path", r.URL.Path, "error", err)
	h.renderError(w, r, s, http.StatusInternalServerError, "Something went wrong on the server; it has been logged.")
}

// renderUseCaseError shows a use case's error that no form catches.
func (h *handler) renderUseCaseError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var e *atlasx509.Error
	if !errors.As(err, &e) || e.Kind == atlasx509.KindInternal {
		h.renderFault(w, r, s, err)
		return
	}
	h.renderError(w, r, s, status(e.Kind), e.Detail)
}

// status is the HTTP status of a page that shows an error of kind.
func status(k atlasx509.Kind) int {
	switch k {
	case atlasx509.KindInvalid:
		return http.StatusBadRequest
	case atlasx509.KindUnauthenticated:
		return http.StatusUnauthorized
	case atlasx509.KindUnauthorized, atlasx509.KindForbidden:
		return http.StatusForbidden
	case atlasx509.KindNotFound:
		return http.StatusNotFound
	case atlasx509.KindConflict:
		return http.StatusConflict
	case atlasx509.KindTooManyRequests:
		return http.StatusTooManyRequests
	default:
		return http.StatusBadRequest
	}
}

// formFailed shows page again with err next to the field it is about, or
// reports that err is not one a form shows (a fault).
func (h *handler) formFailed(w http.ResponseWriter, r *http.Request, v *view, page, form string, err error, fields ...string) error {
	var e *atlasx509.Error
	if !errors.As(err, &e) || e.Kind == atlasx509.KindInternal {
		return err
	}
	v.Errs[form+"."+fieldOf(e, fields)] = e.Detail
	for k, vals := range r.PostForm {
		if k != "csrf" && len(vals) > 0 {
			v.Form[k] = vals[0]
		}
	}
	h.render(w, status(e.Kind), page, v)
	return nil
}

// fieldOf picks, among the form's fields, the one an error is about: the
// attribute it names, else the field whose name its code mentions; "" for
// the form as a whole.
func fieldOf(e *atlasx509.Error, fields []string) string {
	for _, p := range e.Params {
		if s, ok := p.(string); ok {
			for _, f := range fields {
				if strings.EqualFold(s, f) {
					return f
				}
			}
		}
	}
	code := strings.ToUpper(e.Code)
	for _, f := range fields {
		for _, hint := range fieldHints[f] {
			if strings.Contains(code, hint) {
				return f
			}
		}
	}
	return ""
}

// fieldHints are the parts of Atlas error codes that name a form field.
var fieldHints = map[string][]string{
	"username":     {"USERNAME", "USER_ALREADY", "X509_NAME", "LDAP_NAME", "USER_NAME"},
	"roles":        {"ROLE"},
	"password":     {"PASSWORD"},
	"databaseName": {"DATABASE_NAME"},
	"name":         {"GROUP_NAME", "NAME"},
	"months":       {"EXPIR", "MONTHS", "NEGATIVE_OR_ZERO"},
	"desc":         {"DESC"},
	"address":      {"CIDR", "ADDRESS", "WHITELIST", "ACCESS_LIST"},
	"keyType":      {"ENUM"},
}
