// Command atlasx509 serves the MongoDB Atlas Administration API for database
// users and Atlas-managed X.509 certificates.
//
//	atlasx509 serve     serve the API (initializing a new store first)
//	atlasx509 init      initialize the store and print the bootstrap credentials
//	atlasx509 agent     keep one mongod's CA and CRL files current from a server
//	atlasx509 backup    write a consistent copy of the embedded store while it serves
//	atlasx509 restore   restore a backup into an empty data directory
//	atlasx509 check     check the store and open every sealed value with the master key
//	atlasx509 rekey     re-seal every sealed value under the master key (rotation)
//	atlasx509 version   print the version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
