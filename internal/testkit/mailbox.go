package testkit

import (
	"io"
	"net"
	"slices"
	"sync"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
)

// Mailbox is a real SMTP server (github.com/emersion/go-smtp) on a local
// port that keeps every message it received, and can refuse recipients.
type Mailbox struct {
	mu       sync.Mutex
	messages []Mail
	refusals map[string][]*gosmtp.SMTPError
}

// Mail is one message a Mailbox received: its envelope and its text.
type Mail struct {
	From string
	To   []string
	Data string
}

// Last returns the envelope sender, the recipients and the text of the
// last message.
func (m *Mailbox) Last() (from string, to []string, data string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.messages) == 0 {
		return "", nil, ""
	}
	last := m.messages[len(m.messages)-1]
	return last.From, slices.Clone(last.To), last.Data
}

// Messages returns every message received, oldest first.
func (m *Mailbox) Messages() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Mail, len(m.messages))
	for i, msg := range m.messages {
		out[i] = Mail{msg.From, slices.Clone(msg.To), msg.Data}
	}
	return out
}

// To returns the messages whose envelope names addr, oldest first.
func (m *Mailbox) To(addr string) []Mail {
	var out []Mail
	for _, msg := range m.Messages() {
		if slices.Contains(msg.To, addr) {
			out = append(out, msg)
		}
	}
	return out
}

// Refuse makes the next len(codes) RCPT TO commands for addr fail, one
// per code (4xx: try again later; 5xx: permanent), in order.
func (m *Mailbox) Refuse(addr string, codes ...int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refusals == nil {
		m.refusals = make(map[string][]*gosmtp.SMTPError)
	}
	for _, code := range codes {
		enhanced := gosmtp.EnhancedCode{4, 2, 1}
		if code >= 500 {
			enhanced = gosmtp.EnhancedCode{5, 1, 1}
		}
		m.refusals[addr] = append(m.refusals[addr], &gosmtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: "recipient refused by the test"})
	}
}

// NewSession implements gosmtp.Backend.
func (m *Mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct {
	m    *Mailbox
	from string
	to   []string
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if r := s.m.refusals[to]; len(r) > 0 {
		s.m.refusals[to] = r[1:]
		return r[0]
	}
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.messages = append(s.m.messages, Mail{From: s.from, To: slices.Clone(s.to), Data: string(b)})
	return nil
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
