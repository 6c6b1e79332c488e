package notify

import (
	"strings"
	"testing"

	"github.com/atlasx509/atlasx509/internal/testkit"
)

func TestSMTPSend(t *testing.T) {
	m, addr := testkit.StartMailbox(t)
	s, err := ParseSMTP("smtp://" + addr + "?from=alerts@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send([]string{"owner@example.com"}, "Alert OPEN", "line one\nline two"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	from, to, data := m.Last()
	if from != "alerts@example.com" || len(to) != 1 || to[0] != "owner@example.com" {
		t.Errorf("envelope from %q to %v", from, to)
	}
	for _, want := range []string{"Subject: Alert OPEN\r\n", "To: owner@example.com\r\n", "line one\r\nline two"} {
		if !strings.Contains(data, want) {
			t.Errorf("message lacks %q:\n%s", want, data)
		}
	}
}

func TestParseSMTP(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"smtp://mail.example.com:587?from=a@example.com", true},
		{"smtps://u:p@mail.example.com:465?from=a@example.com", true},
		{"smtp://mail.example.com?from=a@example.com", false}, // no port
		{"smtp://mail.example.com:25", false},                 // no sender
		{"http://mail.example.com:25?from=a@example.com", false},
	} {
		if _, err := ParseSMTP(tc.url); (err == nil) != tc.ok {
			t.Errorf("ParseSMTP(%s) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}
