package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/usage"
)

// usageBatchCounts bounds the counts per batch: about 100 bytes of JSON each, so a batch stays
// far below the server's 8 MiB limit on a usage flush.
const usageBatchCounts = 20000

// usageBatches turns an analysis's hourly counts into the batches a gateway would send. The
// gateway id is "usage-analyze:" and a digest of the identity and of every count, so the same
// logs analysed the same way give the same id and sequence numbers, and the server, which
// records each (gateway, seq) once, does not count them twice when they are sent again.
func usageBatches(res *usage.Result) []gateway.Batch {
	counts := res.HourlyCounts()
	h := sha256.New()
	io.WriteString(h, res.Identity)
	var num [8]byte
	for _, c := range counts {
		io.WriteString(h, c.Feature)
		h.Write([]byte{0})
		io.WriteString(h, c.Consumer)
		h.Write([]byte{0})
		binary.BigEndian.PutUint64(num[:], uint64(c.Hour.Unix()))
		h.Write(num[:])
		binary.BigEndian.PutUint64(num[:], uint64(c.Requests))
		h.Write(num[:])
	}
	id := "usage-analyze:" + hex.EncodeToString(h.Sum(nil)[:12])
	var out []gateway.Batch
	for i := 0; i < len(counts); i += usageBatchCounts {
		b := gateway.Batch{Gateway: id, Seq: int64(len(out) + 1)}
		for _, c := range counts[i:min(i+usageBatchCounts, len(counts))] {
			b.Counts = append(b.Counts, gateway.Count{Feature: c.Feature, Consumer: c.Consumer, Hour: c.Hour, Count: uint64(c.Requests)})
		}
		out = append(out, b)
	}
	return out
}

// sendUsage posts the analysis to the control plane for the named sunset and says on w what
// was recorded. A batch the server already had is reported, not an error.
func sendUsage(ctx context.Context, cl *client.Client, name string, res *usage.Result, w io.Writer) error {
	batches := usageBatches(res)
	applied, counts := 0, 0
	for _, b := range batches {
		ok, err := cl.RecordUsage(ctx, name, b)
		var down *client.UnreachableError
		if errors.As(err, &down) {
			return clientError(err)
		}
		if err != nil {
			return fail("sending usage to %s (batch %d of %d; sending again is safe): %v", cl.BaseURL, b.Seq, len(batches), err)
		}
		if ok {
			applied++
		}
		counts += len(b.Counts)
	}
	switch {
	case len(batches) == 0:
		fmt.Fprintf(w, "sunset: no requests to send to %s\n", cl.BaseURL)
	case applied == 0:
		fmt.Fprintf(w, "sunset: %s already has this analysis for %s (%d hourly counts); nothing was added\n", cl.BaseURL, name, counts)
	default:
		fmt.Fprintf(w, "sunset: sent %d hourly counts (%d requests, %d consumers) for %s to %s in %d batches, %d new\n",
			counts, res.Requests, res.Consumers, name, cl.BaseURL, len(batches), applied)
	}
	return nil
}
