// Command naive is the baseline the usage analyzer is measured against: the obvious Go program
// an engineer writes in five minutes. It reads lines with bufio.Scanner, splits them with
// strings.Fields, and counts requests, distinct IPs and distinct paths (without query) in maps.
//
//	go run ./bench/usage/naive FILE
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	ips := map[string]int{}
	paths := map[string]int{}
	lines := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		ips[fields[0]]++
		p := fields[6]
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		paths[p]++
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Printf("{\"lines\":%d,\"ips\":%d,\"paths\":%d}\n", lines, len(ips), len(paths))
}
