package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordedStep is one request a real Atlas client (the Atlas CLI, the
// Terraform provider) sent to atlasx509, and the answer it got, as recorded
// through a proxy (testdata/<client>-<version>.json). IDs and other values
// of that run are written as {name}: the bootstrap's ({orgId},
// {bootstrapKeyId}, …), those a step binds from its answer ({groupId},
// {apiKey1}, …), and a few the replay makes ({customerCA}, {minDate},
// {maxDate}, {ackUntil}, {base}).
type recordedStep struct {
	Cmd         string `json:"cmd"` // the client command that sent it
	Method      string `json:"method"`
	Path        string `json:"path"`
	Query       string `json:"query"`
	Accept      string `json:"accept"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
	Status      int    `json:"status"`
	RespCT      string `json:"respContentType"`
	// Resp is the recorded JSON answer; RespPrefix the start of an answer
	// that is not compared whole (PEM, or one too long to record).
	Resp       json.RawMessage `json:"resp"`
	RespPrefix string          `json:"respPrefix"`
	// Bind names values of the answer (dotted paths) for later steps.
	Bind map[string]string `json:"bind"`
	// Await repeats the step until the answer binds (an alert the
	// background evaluation opens).
	Await bool `json:"await"`
}

// volatileKeys are answer fields whose values differ from one run to the
// next (fresh ids, times, secrets); the replay checks that they are there,
// not their values.
var volatileKeys = map[string]bool{
	"id": true, "_id": true, "created": true, "updated": true, "createdAt": true, "expiresAt": true,
	"lastNotified": true, "privateKey": true, "publicKey": true, "secret": true, "notifierId": true,
	"links": true, "notAfter": true, "targetPublicKey": true, "lastUsed": true, "resolved": true,
}

// replayRecording replays, against a real server with Digest auth on a real
// store, every request of a client's recording (testdata/file): method,
// path, query, Accept and Content-Type and body exactly as sent, with
// userAgent. Each answer must have the recorded status and media type, and
// every field the client decodes, with the recorded value unless it is one
// of a run's own (volatileKeys). It reports whether a step waited for an
// alert.
func replayRecording(t *testing.T, file, userAgent string) (awaited bool) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var steps []recordedStep
	if err := json.Unmarshal(raw, &steps); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, serverOptions{args: []string{"--webhook-allow-private", "true", "--alert-interval", "1s"}})
	c := s.digestClient()
	now := time.Now().UTC()
	vars := map[string]string{
		"orgId": s.Bootstrap.OrgID, "bootstrapGroupId": s.Bootstrap.ProjectID, "bootstrapKeyId": s.Bootstrap.APIKey.ID,
		"bootstrapPublicKey": s.Bootstrap.APIKey.PublicKey, "bootstrapClientId": s.Bootstrap.ServiceAccount.ClientID,
		"minDate":  url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)),
		"maxDate":  url.QueryEscape(now.Add(24 * time.Hour).Format(time.RFC3339)),
		"ackUntil": now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		"base":     s.URL, // in links a client sends back (Terraform's PUT of an alert configuration)
	}
	caPEM, err := json.Marshal(customerCAPEM(t))
	if err != nil {
		t.Fatal(err)
	}
	fill := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return strings.ReplaceAll(s, `"{customerCA}"`, string(caPEM))
	}
	// unfill writes a run's values back as their names, so that an answer
	// compares with the recording.
	unfill := func(b []byte) []byte {
		out := strings.ReplaceAll(string(b), s.URL, "{base}")
		out = strings.ReplaceAll(out, string(caPEM), `"{customerCA}"`)
		for k, v := range vars {
			if len(v) >= 8 && k != "minDate" && k != "maxDate" {
				out = strings.ReplaceAll(out, v, "{"+k+"}")
			}
		}
		return []byte(out)
	}
	for i, st := range steps {
		var got []byte
		var resp *http.Response
		deadline := time.Now().Add(30 * time.Second)
		for {
			target := s.URL + fill(st.Path)
			if st.Query != "" {
				target += "?" + fill(st.Query)
			}
			var body io.Reader
			if st.Body != "" {
				body = strings.NewReader(fill(st.Body))
			}
			req, err := http.NewRequest(st.Method, target, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", st.Accept)
			if st.ContentType != "" {
				req.Header.Set("Content-Type", st.ContentType)
			}
			req.Header.Set("User-Agent", userAgent)
			if resp, err = c.Do(req); err != nil {
				t.Fatalf("step %d (%s): %v", i, st.Cmd, err)
			}
			got, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if !st.Await || bound(got, st.Bind, vars) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		what := st.Method + " " + st.Path + " (" + st.Cmd + ")"
		if resp.StatusCode != st.Status || resp.Header.Get("Content-Type") != st.RespCT {
			t.Fatalf("step %d %s: %d %s, want %d %s; body %s", i, what, resp.StatusCode, resp.Header.Get("Content-Type"), st.Status, st.RespCT, got)
		}
		for name, path := range st.Bind {
			v, ok := lookup(got, path, vars)
			if !ok {
				t.Fatalf("step %d %s: no %s in %s", i, what, path, got)
			}
			vars[name] = v
		}
		awaited = awaited || st.Await
		switch {
		case st.RespPrefix != "":
			if !strings.HasPrefix(string(got), st.RespPrefix) {
				t.Errorf("step %d %s: answer starts %.40q, want %q", i, what, got, st.RespPrefix)
			}
		case strings.HasSuffix(st.Path, "/alerts") && st.Method == "GET":
			// Which alerts are open depends on the month's length (the
			// one-month certificate may fall inside the 30-day defaults
			// too): the opened alert must be listed, the rest is not compared.
			if awaited && !strings.Contains(string(got), `"id":"`+vars["alertId"]+`"`) {
				t.Errorf("step %d %s: the open alert %s is not listed: %s", i, what, vars["alertId"], got)
			}
		case len(st.Resp) > 0:
			var want, have any
			if err := json.Unmarshal(st.Resp, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(unfill(got), &have); err != nil {
				t.Fatalf("step %d %s: answer is not JSON: %s", i, what, got)
			}
			if diff := cmp.Diff(stripVolatile(want), stripVolatile(have)); diff != "" {
				t.Errorf("step %d %s: answer differs from the recording (-recorded +now):\n%s", i, what, diff)
			}
		case len(got) != 0:
			t.Errorf("step %d %s: answer %s, recorded none", i, what, got)
		}
	}
	return awaited
}

// stripVolatile replaces the values of volatileKeys by a marker, keeping
// the keys themselves.
func stripVolatile(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if volatileKeys[k] {
				out[k] = "<volatile>"
			} else {
				out[k] = stripVolatile(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripVolatile(e)
		}
		return out
	}
	return v
}

// lookup returns the string at a dotted path of a JSON answer: object
// keys, list indexes, or ?field=var for the first list item whose field
// holds the variable var.
func lookup(b []byte, path string, vars map[string]string) (string, bool) {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return "", false
	}
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			if sel, ok := strings.CutPrefix(p, "?"); ok {
				// ?field=var: the first item whose field holds that variable
				field, name, _ := strings.Cut(sel, "=")
				v = nil
				for _, e := range x {
					if m, ok := e.(map[string]any); ok && m[field] == vars[name] {
						v = e
						break
					}
				}
				continue
			}
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	s, ok := v.(string)
	return s, ok && s != ""
}

func bound(b []byte, bind, vars map[string]string) bool {
	for _, path := range bind {
		if _, ok := lookup(b, path, vars); !ok {
			return false
		}
	}
	return true
}
