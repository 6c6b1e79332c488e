package testkit

import (
	"io"
	"net"
	"sync"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
)

// Mailbox is a real SMTP server (github.com/emersion/go-smtp) on a local
// port that keeps the last message it received.
type Mailbox struct {
	mu   sync.Mutex
	from string
	to   []string
	data string
}

// Last returns the envelope sender, the recipients and the text of the
// last message.
func (m *Mailbox) Last() (from string, to []string, data string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.from, append([]string(nil), m.to...), m.data
}

// NewSession implements gosmtp.Backend.
func (m *Mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{m}, nil }

type mailSession struct{ m *Mailbox }

func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.to = append(s.m.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.data = string(b)
	return err
}

// StartMailbox serves a Mailbox on 127.0.0.1 until tb ends and returns it
// with its address.
func StartMailbox(tb testing.TB) (*Mailbox, string) {
	tb.Helper()
	m := &Mailbox{}
	srv := gosmtp.NewServer(m)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return m, ln.Addr().String()
}
