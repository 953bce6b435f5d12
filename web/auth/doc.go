// Package auth is who may call what: roles, API tokens, the operator UI's sessions and its
// login pages (a token, a password, or OpenID Connect), the anti-forgery token of the UI's
// forms, the actor a request acts as, and the rate and size limits of the public routes.
//
// Guard wraps every route of the assembled server according to its least role (Route). auth
// imports httpx and client (the problem codes) and no other web package.
package auth
