package channel_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/notify/channel"
	"github.com/sunsetops/sunset/plan"
)

func TestResolveSecretReadsEnvAndFileReferencesAndNamesOnlyTheReference(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("s3cret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOOK_SECRET": "from-env"}
	getenv := func(k string) string { return env[k] }
	for _, c := range []struct {
		ref, want, wantErr string
	}{
		{ref: "", want: ""},
		{ref: "env:HOOK_SECRET", want: "from-env"},
		{ref: "file:" + file, want: "s3cret"},
		{ref: "env:MISSING", wantErr: "secret env:MISSING: the environment variable is not set"},
		{ref: "file:" + filepath.Join(dir, "absent"), wantErr: "secret file:" + filepath.Join(dir, "absent") + ": no such file or directory"},
		{ref: "s3cret-in-clear", wantErr: "secret is not an env: or file: reference"},
		{ref: "ENV:HOOK_SECRET", wantErr: "secret is not an env: or file: reference"},
	} {
		got, err := channel.ResolveSecret(plan.Secret(c.ref), getenv)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("ResolveSecret(%q) = %q, %v; want error %q", c.ref, got, err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret-in-clear") {
				t.Errorf("ResolveSecret(%q): the error shows the value: %v", c.ref, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ResolveSecret(%q) = %q, %v; want %q", c.ref, got, err, c.want)
		}
	}
}

func TestFuncIsAChannel(t *testing.T) {
	var got channel.Message
	var ch channel.Channel = channel.Func(func(_ context.Context, m channel.Message) (bool, error) {
		got = m
		return false, nil
	})
	m := channel.Message{Key: "msg_1", To: channel.Recipient{ID: "c1"}, Rendered: channel.Rendered{Subject: "closing"}}
	if retry, err := ch.Send(context.Background(), m); retry || err != nil {
		t.Fatalf("Send = %v, %v", retry, err)
	}
	if got.Key != "msg_1" || got.To.ID != "c1" || got.Subject != "closing" {
		t.Errorf("the function got %+v", got)
	}
}
