package console_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/atlasx509/atlasx509/internal/app"
	"github.com/atlasx509/atlasx509/internal/console"
)

// The browser tests drive Debian's chromium (or the one ATLASX509_CHROMIUM
// names) through the DevTools protocol. They skip without a browser, except
// with CI=true, where they fail. One browser serves the whole test binary;
// each test opens a tab of its own and starts without cookies.

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserErr    error
	browserData   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	if browserData != "" {
		os.RemoveAll(browserData)
	}
	os.Exit(code)
}

func chromiumPath() string {
	if p := os.Getenv("ATLASX509_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// tab returns a new tab of the shared browser, without cookies, that
// closes when the test ends.
func tab(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no browser at %s (CI=true: the browser tests must run): %v", path, err)
		}
		t.Skipf("no browser at %s: %v", path, err)
	}
	browserOnce.Do(func() {
		browserData, browserErr = os.MkdirTemp("", "atlasx509-chromium-")
		if browserErr != nil {
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path), chromedp.UserDataDir(browserData), chromedp.Headless,
			chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.WindowSize(1100, 900))
		ctx, cancel := chromedp.NewContext(alloc)
		browserCtx = ctx
		browserCancel = func() { cancel(); cancelAlloc() }
		browserErr = chromedp.Do(ctx) // starts the browser
	})
	if browserErr != nil {
		t.Fatalf("starting %s: %v", path, browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute) // a hung browser fails the test, not the run
	t.Cleanup(func() { cancelTimeout(); cancel() })
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	// Accept every confirm() the page asks (the console asks before a
	// deletion).
	dialogs := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return ctx
}

// do runs actions in the tab, failing the test on error.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// submit clicks the button of a form and returns the answer of the
// navigation it causes.
func submit(t *testing.T, ctx context.Context, what, button string) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return resp
}

func header(resp *network.Response, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// screenshot writes the page to $ATLASX509_SCREENSHOTS/name when set
// (the README's pictures).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("ATLASX509_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserDatabaseAccess is the newcomer's flow in a real browser: sign
// in with the bootstrap API key, add a MANAGED user, download a
// certificate, change the roles, delete the user, sign out.
func TestBrowserDatabaseAccess(t *testing.T) {
	ctx := tab(t)
	e := newEnv(t, envOptions{})
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}

	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(e.srv.URL+"/console/"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"Content-Security-Policy": console.ContentSecurityPolicy, "X-Frame-Options": "DENY",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := header(resp, name); got != want {
			t.Errorf("sign-in page: %s = %q, want %q", name, got, want)
		}
	}
	do(t, ctx, "sign in",
		chromedp.WaitVisible(chromedp.CSS("#publicKey")),
		chromedp.SendKeys(chromedp.CSS("#publicKey"), e.boot.APIKey.PublicKey),
		chromedp.SendKeys(chromedp.CSS("#privateKey"), e.boot.APIKey.PrivateKey))
	submit(t, ctx, "sign in", "#signin button[type=submit]")
	do(t, ctx, "projects page", chromedp.WaitVisible(chromedp.CSS("table caption")))
	if h1 := text(t, ctx, "h1"); h1 != "Projects" {
		t.Fatalf("after sign-in: h1 %q", h1)
	}

	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.srv.URL + "/console/"}})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, c := range cookies.Cookies {
		if c.Name == "atlasx509_console" {
			token = c.Value
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Secure {
				t.Errorf("session cookie: HttpOnly %v, SameSite %q, Secure %v; want true, Strict, false over http", c.HTTPOnly, c.SameSite, c.Secure)
			}
		}
	}
	if token == "" || !e.sessionExists(token) {
		t.Fatalf("no session cookie with a stored session (cookies %v)", cookies.Cookies)
	}
	if js, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie")); err != nil || strings.Contains(js, token) {
		t.Errorf("script reads the session cookie: %q, %v", js, err)
	}

	do(t, ctx, "open the project", chromedp.Click(chromedp.CSS("td a")), chromedp.WaitVisible(chromedp.CSS("#add-user")))
	do(t, ctx, "fill the new user",
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#roles"), "readWrite@app"))
	submit(t, ctx, "add alice", "#add-user button[type=submit]")
	do(t, ctx, "alice's page", chromedp.WaitVisible(chromedp.CSS("#issue")))
	if n := text(t, ctx, ".notice"); n != "Database user added." {
		t.Errorf("notice %q", n)
	}

	do(t, ctx, "issue", chromedp.SetValue(chromedp.CSS("#months"), "6"), chromedp.Click(chromedp.CSS("#issue button")))
	file := waitFile(t, filepath.Join(downloads, "alice.pem"))
	ca, err := e.app.ProjectCAPEM(context.Background(), bootPrincipal(t, e), e.boot.ProjectID)
	if err != nil {
		t.Fatal(err)
	}
	checkCertificate(t, file, ca, "alice")

	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	userPage, _, _ := strings.Cut(loc, "&ok=") // without the notice
	do(t, ctx, "reload alice", chromedp.Navigate(userPage), chromedp.WaitVisible(chromedp.CSS("#certs")))
	screenshot(t, ctx, "console-certificates.png")
	if rows := text(t, ctx, "#certs tbody"); !strings.Contains(rows, "Valid") {
		t.Errorf("certificate list: %q", rows)
	}

	do(t, ctx, "the project's users", chromedp.Navigate(e.srv.URL+"/console/projects/"+e.boot.ProjectID),
		chromedp.WaitVisible(chromedp.CSS("#users")),
		chromedp.SendKeys(chromedp.CSS("#username"), "bob"), chromedp.SendKeys(chromedp.CSS("#roles"), "read@reporting"))
	screenshot(t, ctx, "console-database-access.png")

	do(t, ctx, "change roles", chromedp.Navigate(userPage), chromedp.WaitVisible(chromedp.CSS("#edit-roles")),
		chromedp.SetValue(chromedp.CSS("#roles"), "read@reporting, readWrite@app"))
	submit(t, ctx, "save roles", "#edit-roles button")
	do(t, ctx, "roles saved", chromedp.WaitVisible(chromedp.CSS(".notice")))
	u, err := e.app.GetDatabaseUser(context.Background(), bootPrincipal(t, e), e.boot.ProjectID, "$external", "alice")
	if err != nil || len(u.Roles) != 2 {
		t.Errorf("alice's roles: %+v, %v", u.Roles, err)
	}

	submit(t, ctx, "delete alice", "#delete-user button") // confirm() answered by tab
	do(t, ctx, "back on the project", chromedp.WaitVisible(chromedp.CSS("#users")))
	if n := text(t, ctx, ".notice"); n != "Database user deleted." {
		t.Errorf("notice %q", n)
	}
	if users := text(t, ctx, "#users tbody"); strings.Contains(users, "alice") {
		t.Errorf("alice still listed: %q", users)
	}

	submit(t, ctx, "sign out", ".signout button")
	do(t, ctx, "signed out", chromedp.WaitVisible(chromedp.CSS("#signin")))
	if e.sessionExists(token) {
		t.Error("the session row survived sign-out")
	}
}

// TestBrowserRefusals: a form posted without its CSRF token is refused,
// and a credential without the role sees no button and is refused when it
// posts anyway.
func TestBrowserRefusals(t *testing.T) {
	ctx := tab(t)
	e := newEnv(t, envOptions{})
	roles, desc := []string{"GROUP_READ_ONLY"}, "read only"
	key, err := e.app.CreateProjectAPIKey(context.Background(), bootPrincipal(t, e), e.boot.ProjectID, app.APIKeyInput{Desc: &desc, Roles: &roles})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(pub, priv string) {
		do(t, ctx, "sign-in page", chromedp.Navigate(e.srv.URL+"/console/signin"),
			chromedp.SendKeys(chromedp.CSS("#publicKey"), pub), chromedp.SendKeys(chromedp.CSS("#privateKey"), priv))
		submit(t, ctx, "sign in", "#signin button[type=submit]")
		do(t, ctx, "projects", chromedp.WaitVisible(chromedp.CSS("table caption")))
	}
	project := e.srv.URL + "/console/projects/" + e.boot.ProjectID

	signIn(e.boot.APIKey.PublicKey, e.boot.APIKey.PrivateKey)
	do(t, ctx, "project", chromedp.Navigate(project), chromedp.WaitVisible(chromedp.CSS("#add-user")),
		chromedp.SendKeys(chromedp.CSS("#username"), "carol"), chromedp.SendKeys(chromedp.CSS("#roles"), "read@app"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#add-user input[name=csrf]").remove(), true`)); err != nil {
		t.Fatal(err)
	}
	resp := submit(t, ctx, "post without CSRF", "#add-user button[type=submit]")
	if resp.Status != http.StatusForbidden || !strings.Contains(text(t, ctx, ".error"), "security token") {
		t.Errorf("a form without its CSRF token: status %d", resp.Status)
	}
	if _, err := e.app.GetDatabaseUser(context.Background(), bootPrincipal(t, e), e.boot.ProjectID, "$external", "carol"); err == nil {
		t.Error("the form without its CSRF token created carol")
	}
	do(t, ctx, "sign out", chromedp.Navigate(project), chromedp.WaitVisible(chromedp.CSS(".signout")))
	submit(t, ctx, "sign out", ".signout button")

	signIn(key.Key.PublicKey, key.PrivateKey)
	do(t, ctx, "project as read-only", chromedp.Navigate(project), chromedp.WaitVisible(chromedp.CSS("#users")))
	buttons, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#add-user, form[action$='/keytype']").length`))
	if err != nil || buttons != 0 {
		t.Errorf("a read-only key sees %d forms it cannot use (%v)", buttons, err)
	}
	// Post the form anyway, with the session's valid CSRF token.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
		var f = document.createElement("form");
		f.method = "post"; f.action = location.pathname + "/users"; f.id = "forged";
		[["csrf", document.querySelector(".signout input[name=csrf]").value], ["auth", "MANAGED"],
		 ["username", "mallory"], ["roles", "read@app"]].forEach(function (kv) {
			var i = document.createElement("input"); i.type = "hidden"; i.name = kv[0]; i.value = kv[1]; f.appendChild(i);
		});
		var b = document.createElement("button"); b.type = "submit"; f.appendChild(b);
		document.body.appendChild(f);
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	resp = submit(t, ctx, "forged post", "#forged button")
	if resp.Status != http.StatusForbidden {
		t.Errorf("a read-only key adding a user: status %d, want 403", resp.Status)
	}
	if _, err := e.app.GetDatabaseUser(context.Background(), bootPrincipal(t, e), e.boot.ProjectID, "$external", "mallory"); err == nil {
		t.Error("a read-only key created mallory")
	}
}

// waitFile waits for the browser to finish writing path and returns its
// content.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			if _, err := os.Stat(path + ".crdownload"); errors.Is(err, os.ErrNotExist) {
				return b
			}
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(filepath.Dir(path))
			t.Fatalf("no download at %s (directory holds %v)", path, entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
