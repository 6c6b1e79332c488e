package notify

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// SMTP sends mail through one server, from the --smtp-url setting:
// smtp://[user:pass@]host:port (STARTTLS when the server offers it) or
// smtps://… (TLS from the start), the sender as ?from=.
type SMTP struct {
	addr     string
	host     string
	implicit bool
	user     string
	pass     string
	from     string
	// TLSConfig, when set, replaces the default TLS configuration (tests).
	TLSConfig *tls.Config
}

// ParseSMTP parses an --smtp-url value.
func ParseSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("smtp URL: want smtp://[user:pass@]host:port or smtps://…, with ?from=")
	}
	from := u.Query().Get("from")
	if from == "" || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("smtp URL: the sender address ?from= is missing or invalid")
	}
	s := &SMTP{addr: u.Host, host: u.Hostname(), implicit: u.Scheme == "smtps", from: from}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	return s, nil
}

// Send mails subject and body (plain text) to every address of to, in one
// SMTP transaction: when the server refuses one recipient, nothing is sent
// (so the caller that retries sends to nobody twice); a caller that must
// reach each recipient whatever the others do sends to each alone. Once the
// server has accepted the message, Send reports success even when closing
// the session fails, so that a retry does not send it again.
func (s *SMTP) Send(to []string, subject, body string) error {
	tlsConf := s.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	var conn net.Conn
	var err error
	d := &net.Dialer{Timeout: 30 * time.Second}
	if s.implicit {
		conn, err = tls.DialWithDialer(d, "tcp", s.addr, tlsConf)
	} else {
		conn, err = d.Dial("tcp", s.addr)
	}
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicit {
		if err := c.StartTLS(tlsConf); err != nil {
			return err
		}
	}
	if s.user != "" {
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from); err != nil {
		return err
	}
	for _, addr := range to {
		if err := c.Rcpt(addr); err != nil {
			return &RecipientError{Addr: addr, Err: err}
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	msg := "From: " + s.from + "\r\nTo: " + strings.Join(to, ", ") + "\r\nSubject: " + subject +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	c.Quit() // the message is accepted: a failure here must not resend it
	return nil
}

// RecipientError is the server's refusal of one recipient (RCPT TO).
type RecipientError struct {
	Addr string
	Err  error
}

func (e *RecipientError) Error() string { return "recipient " + e.Addr + ": " + e.Err.Error() }
func (e *RecipientError) Unwrap() error { return e.Err }

// RecipientRefused reports whether err is a permanent refusal of a
// recipient by the SMTP server (a 5xx reply to RCPT TO, such as an unknown
// mailbox), which no retry will change. Other failures, also 5xx replies
// to the sender or to authentication (a configuration an operator can
// fix), are worth retrying.
func RecipientRefused(err error) bool {
	var re *RecipientError
	var te *textproto.Error
	return errors.As(err, &re) && errors.As(re.Err, &te) && te.Code >= 500 && te.Code <= 599
}
