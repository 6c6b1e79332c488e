// Package atlasx509 holds the domain of the atlasx509 server: the types that
// every layer shares (organizations, projects, database users, certificate
// authorities, issued certificate records, credentials and roles) and the one
// error type that carries an Atlas error code from the use cases to the wire.
//
// The package imports only the standard library so that every other package
// may depend on it.
package atlasx509
