package client

import "github.com/sunsetops/sunset/client/problem"

// Problem is the error a Client method returns for a non-2xx answer: the server's RFC 9457
// problem details (see package problem).
type Problem = problem.Problem
