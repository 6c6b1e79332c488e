package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestConnectionLimit: past --max-connections, a new connection waits for
// one to close before it is served, so slow clients cannot exhaust the
// server's descriptors and goroutines.
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{args: []string{"--max-connections", "1"}})
	addr := strings.TrimPrefix(s.URL, "http://")
	held, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// The held connection must be accepted before the next one is made.
	if _, err := held.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(held)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("first connection: %q %v", line, err)
	}
	waiting, err := net.Dial("tcp", addr) // queued by the kernel, not accepted
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	if _, err := waiting.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	waiting.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	wr := bufio.NewReader(waiting)
	if line, err := wr.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection served past the limit: %q %v", line, err)
	}
	held.Close()
	waiting.SetReadDeadline(time.Now().Add(30 * time.Second))
	if line, err := wr.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("second connection once the first closed: %q %v", line, err)
	}
}

// TestSlowHeaderIsCut: a client that never finishes its request header has
// its connection closed by the server once the header timeout has passed,
// so slow clients cannot hold connections (and, with --max-connections,
// the server).
func TestSlowHeaderIsCut(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{readHeaderTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")); err != nil { // no blank line
		t.Fatal(err)
	}
	// Far longer than the header timeout: the server, not this deadline,
	// must end the connection.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := conn.Read(make([]byte, 512))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server still holds a connection whose header never ended")
	}
	if err == nil && n > 0 {
		t.Fatalf("the server answered an unfinished request")
	}
}
