// Package httpx holds what every web package writes the same way: problem documents (RFC
// 9457, through the one table in package client), strict JSON bodies, the page language a
// request asks for, per-client rate windows and the client's address.
//
// It imports the standard library, the root sunset package (error codes) and client (the
// problem document's type and table), and no other web package.
package httpx
