//go:build !linux

package uring

func warmUp() {}
