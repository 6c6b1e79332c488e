package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
	"unicode/utf8"
)

// MinMonths and MaxMonths bound the validity of an issued certificate in
// calendar months, as Atlas's monthsUntilExpiration does.
const (
	MinMonths = 1
	MaxMonths = 24
)

// Errors of IssueLeaf. The caller maps them to Atlas error codes.
var (
	// ErrMonths reports a validity outside MinMonths..MaxMonths.
	ErrMonths = errors.New("pki: months until expiration must be between 1 and 24")
	// ErrBeyondCA reports a certificate that would outlive its CA; the caller
	// should create a new CA generation and issue from it.
	ErrBeyondCA = errors.New("pki: certificate would expire after its CA")
	// ErrUsername reports an empty username or one that is not valid UTF-8.
	ErrUsername = errors.New("pki: username must be non-empty UTF-8")
	// ErrSerial reports a serial number that is not positive.
	ErrSerial = errors.New("pki: serial number must be positive")
)

var (
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidClientAuth  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
)

// criticalClientAuthEKU is the extended key usage extension for client
// authentication only, marked critical as Atlas marks it. crypto/x509 would
// write ExtKeyUsage as non-critical, so it is built by hand.
var criticalClientAuthEKU = func() pkix.Extension {
	value, err := asn1.Marshal([]asn1.ObjectIdentifier{oidClientAuth})
	if err != nil {
		panic(err) // a constant input: cannot fail
	}
	return pkix.Extension{Id: oidExtKeyUsage, Critical: true, Value: value}
}()

// LeafRequest describes one client certificate to issue.
type LeafRequest struct {
	// Username is the Atlas database username; the subject is CN=<Username>.
	Username string
	// Months is the validity in calendar months, MinMonths to MaxMonths.
	Months int
	// Now is the issue time: the certificate is valid from Now−Backdate to
	// AddMonths(Now, Months), at second precision.
	Now time.Time
	// Serial is the certificate serial number; it must be positive and the
	// caller keeps it unique within the project (see RandomSerial).
	Serial int64
	// Key is the certificate's private key; only its public half is used.
	Key crypto.Signer
}

// IssueLeaf signs a client certificate for req with the CA and returns its
// DER. The certificate has the subject CN=<username> only, the CA's subject
// as issuer, key usage digitalSignature and extended key usage clientAuth,
// both critical, subject and authority key identifiers, no subject
// alternative name and no basic constraints, as Atlas issues them. It is
// signed with the CA's signature algorithm. rnd is passed to the signer;
// nil means crypto/rand.
func (ca *CA) IssueLeaf(req LeafRequest, rnd io.Reader) (certDER []byte, err error) {
	if ca == nil || ca.Cert == nil || ca.Signer == nil {
		return nil, errors.New("pki: IssueLeaf needs a CA certificate and signer")
	}
	if req.Username == "" || !utf8.ValidString(req.Username) {
		return nil, ErrUsername
	}
	if req.Months < MinMonths || req.Months > MaxMonths {
		return nil, fmt.Errorf("%w (got %d)", ErrMonths, req.Months)
	}
	if req.Serial <= 0 {
		return nil, fmt.Errorf("%w (got %d)", ErrSerial, req.Serial)
	}
	if req.Key == nil {
		return nil, errors.New("pki: IssueLeaf needs the certificate's key")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	// Certificates carry whole seconds; compare what will be encoded.
	now := req.Now.Truncate(time.Second)
	notAfter := AddMonths(now, req.Months)
	if notAfter.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("%w: the certificate would end %s, the CA ends %s",
			ErrBeyondCA, notAfter.UTC().Format(time.RFC3339), ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	pub := req.Key.Public()
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(req.Serial),
		Subject:            pkix.Name{CommonName: req.Username},
		NotBefore:          now.Add(-Backdate),
		NotAfter:           notAfter,
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtraExtensions:    []pkix.Extension{criticalClientAuthEKU},
		SubjectKeyId:       ski,
		SignatureAlgorithm: ca.Cert.SignatureAlgorithm,
	}
	// crypto/x509 takes the issuer name from ca.Cert.RawSubject, so the
	// CN, OU, O order survives, and the authority key identifier from
	// ca.Cert.SubjectKeyId.
	certDER, err = x509.CreateCertificate(rnd, tmpl, ca.Cert, pub, ca.Signer)
	if err != nil {
		return nil, fmt.Errorf("pki: sign certificate for %q: %w", req.Username, err)
	}
	return certDER, nil
}

// AddMonths returns t plus n calendar months, keeping the clock time and
// location. When the day does not exist in the target month it is clamped
// to that month's last day, as Java's plusMonths does (Atlas is Java):
// January 31 plus one month is February 28 or 29, never March 2 or 3 as
// time.AddDate would give.
func AddMonths(t time.Time, n int) time.Time {
	year, month, day := t.Date()
	// Months counted from year 0, month index 0..11, with floor division so
	// that negative n works too.
	total := year*12 + int(month) - 1 + n
	y, m := total/12, total%12
	if m < 0 {
		y, m = y-1, m+12
	}
	target := time.Month(m + 1)
	// Day 0 of the next month is the last day of the target month.
	if last := time.Date(y, target+1, 0, 0, 0, 0, 0, time.UTC).Day(); day > last {
		day = last
	}
	hour, minute, sec := t.Clock()
	return time.Date(y, target, day, hour, minute, sec, t.Nanosecond(), t.Location())
}

// RandomSerial returns a random positive serial number: 8 bytes from rnd
// with the top bit cleared, drawn again if zero, like the serials of Atlas's
// certificates. nil rnd means crypto/rand.
func RandomSerial(rnd io.Reader) (int64, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [8]byte
	for range maxZeroDraws {
		if _, err := io.ReadFull(rnd, b[:]); err != nil {
			return 0, fmt.Errorf("pki: random serial: %w", err)
		}
		b[0] &= 0x7f
		if v := int64(binary.BigEndian.Uint64(b[:])); v > 0 {
			return v, nil
		}
	}
	return 0, errors.New("pki: random serial: the random source returns only zeros")
}
