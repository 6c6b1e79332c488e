// Package auth holds the pure, storage-free parts of Atlas Administration API
// authentication:
//
//   - HTTP Digest access authentication (RFC 7616) as used by Atlas
//     programmatic API keys: the challenge ([Challenge]), the parser for the
//     client's Authorization header ([ParseDigest]), the response check
//     ([DigestCredentials.Verify]) and stateless, replica-verifiable server
//     nonces with replay protection ([Nonces]).
//   - OAuth 2.0 Bearer access tokens minted for service accounts by the token
//     endpoint (client-credentials grant): HS256 JWTs ([TokenIssuer]) and the
//     Authorization header helper [ParseBearer].
//
// Nothing here touches storage: looking up the API key (its stored HA1 values)
// or the service account is the caller's job.
//
// # Digest request flow
//
// The Atlas clients (the Go SDKs and the Atlas CLI via
// github.com/mongodb-forks/digest) send every request unauthenticated first and
// only answer a 401 challenge, with a fresh nonce per request and nc=00000001.
// The HTTP layer should therefore do, for each request:
//
//  1. No Authorization header (or not Digest): respond 401 with
//     WWW-Authenticate: [Challenge](nonces.New(), false). The unauthenticated
//     request must have no side effects.
//  2. creds, err := [ParseDigest](header); on error respond 400 or 401 with a
//     fresh challenge.
//  3. Check creds.Realm == [Realm] and creds.URI == r.RequestURI (RFC 7616
//     §3.4.6: the digest must be for this request's target).
//  4. switch nonces.Check(creds.Nonce): [NonceInvalid] → 401 with a fresh
//     challenge; [NonceStale] → 401 with Challenge(nonces.New(), true);
//     [NonceValid] → continue.
//  5. Look up the API key by creds.Username and call
//     creds.Verify(r.Method, storedHA1For(creds.Algorithm)). Unknown user or
//     false → 401 with a fresh challenge.
//  6. nonces.Accept(creds.Nonce, creds.NC); false (replay, or ledger full) →
//     401 with a fresh challenge.
//  7. Authenticated.
//
// Accept must come last so that a request with a wrong password cannot burn a
// legitimate client's nonce count.
package auth
