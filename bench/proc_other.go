//go:build !linux

package main

import (
	"errors"
	"syscall"
)

var errNoProc = errors.New("needs Linux /proc")

// childAttr is Linux-only; elsewhere the child shares the process group, so
// a Ctrl-C reaches it as well as the benchmark.
func childAttr() *syscall.SysProcAttr { return nil }

func memStatus(int) (rss, hwm int64, err error) { return 0, 0, errNoProc }

func cpuSeconds(int) (float64, error) { return 0, errNoProc }

func machineBusySeconds() (float64, error) { return 0, errNoProc }
