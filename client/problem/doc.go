// Package problem is the error document of Sunset's API: RFC 9457 problem details (Problem)
// and the one table that maps error codes to HTTP statuses and back. The server writes it
// (web/httpx) and the client reads it; it imports only the root sunset package, so that
// neither side pulls in the other.
package problem
