package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Options is what an s3:// destination URL says (see OpenDest).
type s3Options struct {
	Bucket string
	// Prefix is the folder in the bucket, ending in "/", or empty.
	Prefix string
	// Host is the endpoint's host[:port]; Secure says https.
	Host   string
	Secure bool
	// Compatible is set when the URL names an endpoint: a store other than AWS S3.
	Compatible bool
	Region     string
	PathStyle  bool
	Anonymous  bool
	// Profile is the ~/.aws profile of the credentials (default AWS_PROFILE, else "default").
	Profile string
	// SendChecksums adds a CRC32C checksum to uploads; CheckChecksums checks a whole object's
	// checksum on download, where the store keeps one.
	SendChecksums, CheckChecksums bool
}

// s3Params are the query parameters an s3:// URL may carry.
var s3Params = []string{"anonymous", "endpoint", "prefix", "profile", "region",
	"request_checksum_calculation", "response_checksum_validation", "s3ForcePathStyle", "use_path_style"}

// parseS3URL reads s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&…]. getenv supplies
// AWS_REGION and AWS_DEFAULT_REGION when the URL names no region.
func parseS3URL(u *url.URL, getenv func(string) string) (s3Options, error) {
	o := s3Options{Bucket: u.Host}
	if o.Bucket == "" {
		return o, errors.New("no bucket: write s3://BUCKET/PREFIX")
	}
	if u.User != nil || u.Port() != "" || u.Fragment != "" {
		return o, errors.New("write s3://BUCKET/PREFIX, with credentials in the environment, not in the URL")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return o, fmt.Errorf("query: %w", err)
	}
	for k, v := range q {
		if !slices.Contains(s3Params, k) {
			return o, fmt.Errorf("unknown query parameter %q (known: %s)", k, strings.Join(s3Params, ", "))
		}
		if len(v) > 1 {
			return o, fmt.Errorf("query parameter %q is given %d times", k, len(v))
		}
	}
	prefix := strings.Trim(u.Path, "/")
	if p := q.Get("prefix"); p != "" {
		prefix = strings.TrimSuffix(p, "/")
	}
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return o, fmt.Errorf("prefix %q: a folder in the bucket, like orders/final", prefix)
		}
		o.Prefix = prefix + "/"
	}
	o.Host, o.Secure = "s3.amazonaws.com", true
	if e := q.Get("endpoint"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || eu.Scheme != "http" && eu.Scheme != "https" || eu.Host == "" || strings.Trim(eu.Path, "/") != "" || eu.RawQuery != "" || eu.User != nil {
			return o, fmt.Errorf("endpoint %q: give the store's base URL, like http://127.0.0.1:9000", e)
		}
		o.Host, o.Secure, o.Compatible, o.PathStyle = eu.Host, eu.Scheme == "https", true, true
	}
	bools := map[string]*bool{"use_path_style": &o.PathStyle, "s3ForcePathStyle": &o.PathStyle, "anonymous": &o.Anonymous}
	for _, k := range []string{"s3ForcePathStyle", "use_path_style", "anonymous"} {
		if v := q.Get(k); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return o, fmt.Errorf("%s=%q: want true or false", k, v)
			}
			*bools[k] = b
		}
	}
	// AWS S3 takes the newer checksums; many compatible stores lack them.
	o.SendChecksums, o.CheckChecksums = !o.Compatible, !o.Compatible
	for k, dst := range map[string]*bool{"request_checksum_calculation": &o.SendChecksums, "response_checksum_validation": &o.CheckChecksums} {
		switch v := q.Get(k); v {
		case "":
		case "when_supported":
			*dst = true
		case "when_required":
			*dst = false
		default:
			return o, fmt.Errorf("%s=%q: want when_supported or when_required", k, v)
		}
	}
	o.Region, o.Profile = q.Get("region"), q.Get("profile")
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if o.Region == "" {
			o.Region = getenv(k)
		}
	}
	return o, nil
}

// s3Store is an S3 bucket, or a folder of one, reached with minio-go: AWS S3 or an
// S3-compatible store.
type s3Store struct {
	o      s3Options
	putOpt minio.PutObjectOptions
	// The client is reached only through these functions: a *minio.Client in a type that
	// reflection can reach would keep all of its 200 methods in the binary (about 2 MB), since
	// the binary looks up methods by name (text/template).
	get  func(ctx context.Context, object string) (*minio.Object, error)
	send func(ctx context.Context, object string, r io.Reader, size int64, opt minio.PutObjectOptions) error
	del  func(ctx context.Context, object string) error
	list func(ctx context.Context, prefix string) <-chan minio.ObjectInfo
}

var _ objectStore = (*s3Store)(nil)

// s3PartSize is the part of a streamed upload (an archive, whose size is not known before it
// ends) held in memory at a time; S3 allows 10,000 parts, so an archive may reach 160 GB.
const s3PartSize = 16 << 20

// openS3 makes the client of o. Nothing is sent before the first request. Credentials come,
// in this order, from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the ~/.aws files (a
// profile's keys, SSO or credential_process), or the instance's or container's role.
func openS3(o s3Options, getenv func(string) string) (*s3Store, error) {
	creds := credentials.NewStatic("", "", "", credentials.SignatureAnonymous)
	if !o.Anonymous {
		providers := []credentials.Provider{&credentials.EnvAWS{}, &credentials.FileAWSCredentials{Profile: o.Profile}}
		if !strings.EqualFold(getenv("AWS_EC2_METADATA_DISABLED"), "true") || roleFromEnv(getenv) {
			providers = append(providers, &credentials.IAM{})
		}
		creds = credentials.NewChainCredentials(providers)
	}
	lookup := minio.BucketLookupDNS
	if o.PathStyle {
		lookup = minio.BucketLookupPath
	} else if !o.Compatible {
		lookup = minio.BucketLookupAuto // AWS: virtual-hosted style, except for bucket names with dots
	}
	c, err := minio.New(o.Host, &minio.Options{Creds: creds, Secure: o.Secure, Region: o.Region, BucketLookup: lookup,
		TrailingHeaders: o.SendChecksums, MaxRetries: 3})
	if err != nil {
		return nil, err
	}
	bucket := o.Bucket
	return &s3Store{o: o,
		get: func(ctx context.Context, object string) (*minio.Object, error) {
			return c.GetObject(ctx, bucket, object, minio.GetObjectOptions{Checksum: o.CheckChecksums})
		},
		send: func(ctx context.Context, object string, r io.Reader, size int64, opt minio.PutObjectOptions) error {
			_, err := c.PutObject(ctx, bucket, object, r, size, opt)
			return err
		},
		del: func(ctx context.Context, object string) error {
			return c.RemoveObject(ctx, bucket, object, minio.RemoveObjectOptions{})
		},
		list: func(ctx context.Context, prefix string) <-chan minio.ObjectInfo {
			return c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
		},
		// The payload is not signed as a stream of signed chunks (aws-chunked, which some
		// compatible stores cannot read): each request carries a CRC32C checksum (AWS) or an
		// MD5 (other stores), which the store checks.
		putOpt: minio.PutObjectOptions{PartSize: s3PartSize, DisableContentSha256: true, SendContentMd5: !o.SendChecksums}}, nil
}

// roleFromEnv reports whether the environment names a container or web-identity role, which
// the IAM provider reads without the instance metadata service.
func roleFromEnv(getenv func(string) string) bool {
	for _, k := range []string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		if getenv(k) != "" {
			return true
		}
	}
	return false
}

// s3Err turns a missing object into fs.ErrNotExist and names the object in other errors.
func (s *s3Store) s3Err(key string, err error) error {
	if err == nil {
		return nil
	}
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return notFound(key)
	case minio.NoSuchBucket:
		return fmt.Errorf("s3://%s: no such bucket", s.o.Bucket)
	}
	return fmt.Errorf("s3://%s/%s%s: %w", s.o.Bucket, s.o.Prefix, key, err)
}

func (s *s3Store) open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := s.get(ctx, s.o.Prefix+key)
	if err != nil {
		return nil, s.s3Err(key, err)
	}
	// GetObject sends nothing yet; Stat sends the request and reports a missing key.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.s3Err(key, err)
	}
	return obj, nil
}

// put uploads data in one request.
func (s *s3Store) put(ctx context.Context, key string, data []byte, contentType string) error {
	opt := s.putOpt
	opt.ContentType = contentType
	return s.s3Err(key, s.send(ctx, s.o.Prefix+key, bytes.NewReader(data), int64(len(data)), opt))
}

// create streams an object of unknown size as a multipart upload, which S3 makes visible only
// when it completes; a failed or aborted upload is aborted at the store.
func (s *s3Store) create(ctx context.Context, key, contentType string) (objectWriter, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	w := &s3Writer{pw: pw, cancel: cancel, done: make(chan error, 1)}
	opt := s.putOpt
	opt.ContentType = contentType
	go func() {
		err := s.send(ctx, s.o.Prefix+key, pr, -1, opt)
		if err == nil {
			err = ctx.Err() // aborted after the last part: not reported as written
		}
		pr.CloseWithError(cmpErr(err, io.ErrClosedPipe))
		w.done <- s.s3Err(key, err)
	}()
	return w, nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func (s *s3Store) remove(ctx context.Context, key string) error {
	return s.s3Err(key, s.del(ctx, s.o.Prefix+key))
}

func (s *s3Store) keys(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel() // ends the listing's goroutine when the caller stops early
		for obj := range s.list(ctx, s.o.Prefix) {
			if obj.Err != nil {
				yield("", s.s3Err("", obj.Err))
				return
			}
			key := strings.TrimPrefix(obj.Key, s.o.Prefix)
			if key == "" || strings.HasSuffix(key, "/") {
				continue // a folder marker
			}
			if !yield(key, nil) {
				return
			}
		}
	}
}

func (s *s3Store) close() error { return nil }

// s3Writer feeds a streamed upload through a pipe.
type s3Writer struct {
	pw     *io.PipeWriter
	cancel context.CancelFunc
	done   chan error
	err    error
	ended  bool
}

func (w *s3Writer) Write(p []byte) (int, error) { return w.pw.Write(p) }

// Close ends the stream and waits for the upload to complete.
func (w *s3Writer) Close() error {
	if w.ended {
		return w.err
	}
	w.ended = true
	w.pw.Close()
	w.err = <-w.done
	w.cancel()
	return w.err
}

// Abort stops the upload and waits until the store has dropped it.
func (w *s3Writer) Abort() {
	if w.ended {
		return
	}
	w.ended = true
	w.cancel()
	w.pw.CloseWithError(errors.New("backup: upload aborted"))
	w.err = <-w.done
}
