package notify

import (
	"errors"
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

// TestSMTPSendRefusedRecipient: a refused recipient sends nothing to the
// others of the same call, names the address, and is permanent only for a
// 5xx reply.
func TestSMTPSendRefusedRecipient(t *testing.T) {
	m, addr := testkit.StartMailbox(t)
	s, err := ParseSMTP("smtp://" + addr + "?from=alerts@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code      int
		permanent bool
	}{{451, false}, {550, true}} {
		m.Refuse("b@example.com", c.code)
		err := s.Send([]string{"a@example.com", "b@example.com"}, "Alert OPEN", "text")
		var re *RecipientError
		if !errors.As(err, &re) || re.Addr != "b@example.com" || RecipientRefused(err) != c.permanent {
			t.Errorf("refused with %d: %v (permanent %v)", c.code, err, RecipientRefused(err))
		}
	}
	if got := m.Messages(); len(got) != 0 {
		t.Errorf("sent %d messages to the recipients not refused", len(got))
	}
	if err := s.Send([]string{"a@example.com", "b@example.com"}, "Alert OPEN", "text"); err != nil || RecipientRefused(err) {
		t.Errorf("Send once no longer refused: %v", err)
	}
	if got := m.Messages(); len(got) != 1 || len(got[0].To) != 2 {
		t.Errorf("messages %+v", got)
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
