package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// --public-url is where users reach the public pages: the feed's links name it, not the
// listening address.
func TestServePublicURLNamesThePublicPagesInLinks(t *testing.T) {
	api, stop := server(t, "sqlite:"+filepath.Join(t.TempDir(), "sunset.db"), "--public-url", "https://sunset.example.com/", "--now", afterAnnounce)
	defer stop()
	// Unapproved, the example is not public yet: the same 404 as an unknown sunset.
	for _, name := range []string{"orders-api-v1", "nobody-v1"} {
		if code := getStatus(t, api+"/p/"+name+"/feed.atom"); code != http.StatusNotFound {
			t.Errorf("feed of %s before the announcement: %d, want 404", name, code)
		}
	}
	signOff(t, api)
	eventually(t, "the example is announced", func() bool { return getStatus(t, api+"/p/orders-api-v1/feed.atom") == http.StatusOK })
	resp, err := http.Get(api + "/p/orders-api-v1/feed.atom")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "https://sunset.example.com/p/orders-api-v1") {
		t.Errorf("feed: %d, want links to https://sunset.example.com/p/orders-api-v1:\n%.1500s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("the feed names the listening address:\n%.1500s", body)
	}
}

func TestServeRefusesABadPublicURL(t *testing.T) {
	for _, bad := range []string{"sunset.example.com", "ftp://x", "https://", "https://x/?a=1"} {
		code, _, errs := run(t, context.Background(), "serve", "--db", "sqlite:"+filepath.Join(t.TempDir(), "s.db"), "--public-url", bad)
		if code != 2 || !strings.Contains(errs, "--public-url") {
			t.Errorf("--public-url %q: exit %d, %s", bad, code, errs)
		}
	}
}

// getStatus returns the status of a GET of url.
func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
