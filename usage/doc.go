// Package usage reads access logs and answers the first questions of every sunset: who still
// calls the service, which features and endpoints they use, how usage trends, and when the
// service is quiet enough to shut down.
//
// # Inputs
//
// Logs come as NCSA common or combined lines (the Apache and nginx defaults), as any custom
// format written the way the server writes it (an nginx log_format or an Apache LogFormat
// string), or as JSON lines with configurable field names. Files may be plain, gzip (.gz) or
// zstd (.zst) compressed; "-" reads standard input. The format is detected from the first lines
// of each input when it is not given. Timestamps keep the offsets written in the log: the daily
// series uses each line's own calendar date, while the hour-of-week heatmap and the quiet
// windows are computed in one time zone (the plan's, or the one asked for).
//
// # How it runs
//
// Analyze reads each input in large blocks cut at newline boundaries and hands the blocks to one
// worker per core. Each worker parses its blocks into its own aggregate; the aggregates are
// merged at the end, so the workers never share a lock on the hot path. Memory grows with the
// number of distinct keys (consumers, endpoints, days, consumer×endpoint pairs up to the
// sketch's threshold), not with the size of the input: a block is released as soon as it is
// parsed.
//
// # Exactness
//
// Every count is exact but one. Distinct consumers are interned by identity (a byte arena and
// an open-addressing index), so the total, daily, hour-of-week, per-feature and per-window
// consumer counts stay exact for as many consumers as memory holds: about 200 bytes per
// consumer per worker plus the merged copy, so 10 million distinct consumers need roughly
// 4–6 GB on a two-core machine. The exception is the distinct consumers of one endpoint: exact
// up to 1,024, then a HyperLogLog estimate with a relative standard error of 1.6% (distinct.go),
// because an exact endpoint×consumer set dominated time and memory on logs with many paths.
// There is no sampling.
//
// # Bad input
//
// A line that cannot be read is counted as malformed with its file and line number and the
// reason; the first few are kept as examples. Lines longer than MaxLineBytes are skipped as
// malformed without being held in memory. lines = parsed + malformed always holds.
package usage
