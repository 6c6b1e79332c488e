package auth

import (
	"testing"
	"time"
)

func BenchmarkParseAndVerifyDigest(b *testing.B) {
	const uri = "/api/atlas/v2/groups/5f0a1b2c3d4e5f6a7b8c9d0e/databaseUsers/%24external/CN%3Dalice/certs?pageNum=1"
	header := digestHeader(AlgorithmMD5, "GET", uri, "7ypf_xlj9XXwfDPEoM4URrv_xwf94BcCAzFZH4GiTo0", 1, testPub, testPriv)
	ha1 := HA1(AlgorithmMD5, testPub, Realm, testPriv)
	b.ReportAllocs()
	for b.Loop() {
		c, err := ParseDigest(header)
		if err != nil || !c.Verify("GET", ha1) {
			b.Fatal("verification failed")
		}
	}
}

func BenchmarkNonceNewCheckAccept(b *testing.B) {
	n := NewNonces(testNonceKey, time.Minute, nil)
	b.ReportAllocs()
	for b.Loop() {
		s := n.New()
		if n.Check(s) != NonceValid || !n.Accept(s, 1) {
			b.Fatal("nonce refused")
		}
	}
}

func BenchmarkTokenMint(b *testing.B) {
	iss := &TokenIssuer{Key: testTokenKey, Issuer: testIssuer}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := iss.Mint("mdb_sa_id_5f0a1b2c3d4e5f6a7b8c9d0e", "5f0a1b2c3d4e5f6a7b8c9d0f"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenVerify(b *testing.B) {
	iss := &TokenIssuer{Key: testTokenKey, Issuer: testIssuer}
	tok, _, err := iss.Mint("mdb_sa_id_5f0a1b2c3d4e5f6a7b8c9d0e", "5f0a1b2c3d4e5f6a7b8c9d0f")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
