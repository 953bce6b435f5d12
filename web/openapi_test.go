package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/web/api"
	"github.com/sunsetops/sunset/web/httpx"
)

// docURL is where the tests file the OpenAPI document for the schema compiler; schema $refs
// inside it ("#/components/schemas/Sunset") resolve against it.
const docURL = "https://sunset.test/openapi.json"

// openAPI is the parsed document and a JSON Schema 2020-12 compiler that knows it. OpenAPI 3.1
// schemas are JSON Schema 2020-12, so a maintained validator checks the bodies.
type openAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

// loadOpenAPI parses the embedded document.
func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(api.OpenAPI()))
	if err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		t.Fatal("openapi.json is not an object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, raw); err != nil {
		t.Fatalf("openapi.json as a schema resource: %v", err)
	}
	return &openAPI{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}
}

// obj returns v[key] as an object, or nil.
func obj(v any, key string) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	r, _ := m[key].(map[string]any)
	return r
}

// deref follows a local "$ref" ("#/components/responses/NotFound") to the object it names.
func (o *openAPI) deref(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	ref, ok := v["$ref"].(string)
	if !ok {
		return v
	}
	var cur any = o.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		next := obj(cur, tok)
		if next == nil {
			t.Fatalf("$ref %s does not resolve", ref)
		}
		cur = next
	}
	return cur.(map[string]any)
}

// operation returns the operation for method on the document path, or nil.
func (o *openAPI) operation(method, path string) map[string]any {
	return obj(obj(obj(o.doc, "paths"), path), strings.ToLower(method))
}

// rebase copies a schema, making its local $refs absolute against docURL so that the copy can be
// compiled as a resource of its own.
func rebase(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" && strings.HasPrefix(s, "#") {
				out[k] = docURL + s
				continue
			}
			out[k] = rebase(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = rebase(x)
		}
		return out
	}
	return v
}

// schema compiles the schema object found under key (cached).
func (o *openAPI) schema(t *testing.T, key string, sch map[string]any) *jsonschema.Schema {
	t.Helper()
	if s, ok := o.schemas[key]; ok {
		return s
	}
	u := fmt.Sprintf("https://sunset.test/check/%d.json", len(o.schemas))
	if err := o.compiler.AddResource(u, rebase(sch)); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	s, err := o.compiler.Compile(u)
	if err != nil {
		t.Fatalf("%s: schema does not compile: %v", key, err)
	}
	o.schemas[key] = s
	return s
}

// isJSON reports whether a media type carries JSON.
func isJSON(mt string) bool { return mt == "application/json" || strings.HasSuffix(mt, "+json") }

// check validates an answer against the response the document declares for the operation:
// the status (or default), the media type, and for JSON the body against the schema.
func (o *openAPI) check(t *testing.T, method, path string, r *response) {
	t.Helper()
	op := o.operation(method, path)
	if op == nil {
		t.Fatalf("%s %s is not in the document", method, path)
	}
	responses := obj(op, "responses")
	code := strconv.Itoa(r.status)
	decl := obj(responses, code)
	if decl == nil {
		code = "default"
		decl = obj(responses, "default")
	}
	if decl == nil {
		t.Fatalf("%s %s answered %d, which the document does not declare", method, path, r.status)
	}
	decl = o.deref(t, decl)
	mt := r.mediaType()
	media := obj(obj(decl, "content"), mt)
	if media == nil {
		t.Fatalf("%s %s answered %d as %q, which the document does not declare", method, path, r.status, mt)
	}
	for name := range obj(decl, "headers") {
		if r.header.Get(name) == "" {
			t.Errorf("%s %s answered %d without the declared header %s", method, path, r.status, name)
		}
	}
	if !isJSON(mt) {
		return
	}
	sch := obj(media, "schema")
	if sch == nil {
		t.Fatalf("%s %s %d %s declares no schema", method, path, r.status, mt)
	}
	body, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("%s %s %d: body is not JSON: %v", method, path, r.status, err)
	}
	if err := o.schema(t, method+" "+path+" "+code+" "+mt, sch).Validate(body); err != nil {
		t.Errorf("%s %s answered %d with a body that does not match the document:\n%v\nbody: %.2000s", method, path, r.status, err, r.body)
	}
}

// routeOperation returns the method and OpenAPI path of a route pattern ("GET /{$}" → GET, /).
func routeOperation(pattern string) (method, path string) {
	method, path = splitPattern(pattern)
	return method, strings.TrimSuffix(path, "{$}")
}

// tableRoutes returns the patterns of the server's route table.
func tableRoutes() []string {
	s := &Server{}
	var out []string
	for _, rt := range s.routes(newMetrics(s)) {
		out = append(out, rt.Pattern)
	}
	return out
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	o := loadOpenAPI(t)
	if v, _ := o.doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", v)
	}
	routes := map[string]bool{}
	for _, pattern := range tableRoutes() {
		method, path := routeOperation(pattern)
		routes[method+" "+path] = true
		op := o.operation(method, path)
		if op == nil {
			t.Errorf("route %s is not described in openapi.json (paths[%q].%s)", pattern, path, strings.ToLower(method))
			continue
		}
		if op["operationId"] == nil || op["summary"] == nil {
			t.Errorf("%s has no operationId or summary", pattern)
		}
		responses := obj(op, "responses")
		if obj(responses, "default") == nil {
			t.Errorf("%s declares no default (problem) response", pattern)
		}
		// A success is a 2xx answer, or a 3xx one for the HTML forms that redirect.
		ok2xx := false
		for code := range responses {
			ok2xx = ok2xx || strings.HasPrefix(code, "2") || strings.HasPrefix(code, "3")
		}
		if !ok2xx {
			t.Errorf("%s declares no 2xx or 3xx response", pattern)
		}
		// Every path parameter is declared, on the path or on the operation.
		declared := map[string]bool{}
		for _, list := range []any{obj(obj(o.doc, "paths"), path)["parameters"], op["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				p := o.deref(t, p.(map[string]any))
				if p["in"] == "path" {
					declared[p["name"].(string)] = true
				}
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %s is not declared", pattern, m[1])
			}
		}
	}
	// And the document describes nothing the server does not serve.
	for path, item := range obj(o.doc, "paths") {
		for method := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			if !routes[strings.ToUpper(method)+" "+path] {
				t.Errorf("openapi.json describes %s %s, which the route table lacks", strings.ToUpper(method), path)
			}
		}
	}
}

func TestOpenAPIComponentSchemasCompile(t *testing.T) {
	o := loadOpenAPI(t)
	schemas := obj(obj(o.doc, "components"), "schemas")
	for _, name := range []string{"Sunset", "Status", "Action", "Event", "ApplyResult", "Verification", "Problem", "TimelineAction"} {
		if schemas[name] == nil {
			t.Errorf("components.schemas.%s is missing", name)
		}
	}
	for name, sch := range schemas {
		o.schema(t, "component "+name, sch.(map[string]any))
	}
}

// TestOpenAPIAnswersMatchTheDocument calls every route on a real server, in the happy and the
// error paths, and validates each answer against the response the document declares for it.
func TestOpenAPIAnswersMatchTheDocument(t *testing.T) {
	o := loadOpenAPI(t)
	b := setup(t)
	covered := map[string]bool{}

	call := func(method, path, tmpl, body string, wantStatus int, header ...string) *response {
		t.Helper()
		r := b.do(t, method, path, body, header...)
		if r.status != wantStatus {
			t.Fatalf("%s %s: status %d, want %d: %.500s", method, path, r.status, wantStatus, r.body)
		}
		o.check(t, method, tmpl, r)
		// A redirect (the operator UI's forms answer 303) is a successful answer too.
		if r.status < 400 {
			covered[method+" "+tmpl] = true
		}
		return r
	}
	const (
		sunsetPath   = "/api/v1/sunsets/{name}"
		timelinePath = sunsetPath + "/timeline"
		eventsPath   = sunsetPath + "/events"
		verifyPath   = sunsetPath + "/events/verify"
		pausePath    = sunsetPath + "/pause"
		resumePath   = sunsetPath + "/resume"
		cancelPath   = sunsetPath + "/cancel"
		skipPath     = sunsetPath + "/skip"
		signoffPath  = sunsetPath + "/signoffs"
		replanPath   = sunsetPath + "/replan"
		guardPath    = sunsetPath + "/guardrails"
		policyPath   = sunsetPath + "/policy"
		usagePath    = sunsetPath + "/usage"
		fbPath       = sunsetPath + "/feedback"
		fbImportPath = sunsetPath + "/feedback/import"
		fbSumPath    = sunsetPath + "/feedback/summary"
		formPath     = "/feedback/{name}"
		surveyPath   = "/survey/{name}"
	)

	// Operations, on an empty store.
	call("GET", "/", "/", "", 200)
	call("GET", "/healthz", "/healthz", "", 200)
	call("GET", "/readyz", "/readyz", "", 200)
	call("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", "", 200)
	call("GET", "/api/v1/sunsets", "/api/v1/sunsets", "", 200)

	// Plans: refused, created, re-applied, moved.
	call("POST", "/api/v1/plans", "/api/v1/plans", invalidPlan, 400)
	call("POST", "/api/v1/plans", "/api/v1/plans", "", 400)
	call("POST", "/api/v1/plans", "/api/v1/plans", strings.Repeat("#", plan.MaxPlanSize+1), 413)
	call("POST", "/api/v1/plans?file=billing.yaml", "/api/v1/plans", testPlan, 201)
	call("POST", "/api/v1/plans", "/api/v1/plans", testPlan, 200)
	call("POST", "/api/v1/plans", "/api/v1/plans", testPlanMoved, 200, client.ActorHeader, "li.wei")
	call("POST", "/api/v1/plans", "/api/v1/plans", testPlanNoSignoff, 201)

	// Let an action run so that done_at appears in actions and timelines.
	b.start(t)
	b.clock.Set(time.Date(2027, 1, 4, 3, 0, 0, 0, time.UTC))
	b.waitDone(t, "reports-v2", "milestone/announce")

	for _, name := range []string{"billing-v1", "reports-v2"} {
		p := "/api/v1/sunsets/" + name
		call("GET", p, sunsetPath, "", 200)
		call("GET", p+"/timeline", timelinePath, "", 200)
		call("GET", p+"/plan", sunsetPath+"/plan", "", 200)
		call("GET", p+"/events", eventsPath, "", 200)
		call("GET", p+"/events/verify", verifyPath, "", 200)
	}
	call("GET", "/api/v1/sunsets", "/api/v1/sunsets", "", 200)

	// State changes, with their refusals.
	p := "/api/v1/sunsets/billing-v1"
	call("POST", p+"/signoffs", signoffPath, `{"stakeholder":"sales"}`, 400)
	call("POST", p+"/signoffs", signoffPath, `{"stakeholder":"legal"}`, 200)
	call("POST", p+"/signoffs", signoffPath, `{"stakeholder":"legal"}`, 409)
	call("POST", p+"/pause", pausePath, "", 400)
	call("POST", p+"/pause", pausePath, `{"reason":"holiday freeze"}`, 200)
	call("GET", p, sunsetPath, "", 200) // paused, with paused_from
	call("POST", p+"/pause", pausePath, `{"reason":"again"}`, 409)
	call("POST", p+"/resume", resumePath, `{}`, 400)
	call("POST", p+"/resume", resumePath, `{"reason":"x","extra":1}`, 400)
	call("POST", p+"/resume", resumePath, `{"reason":"`+strings.Repeat("x", httpx.MaxJSONBody)+`"}`, 413)
	call("POST", p+"/resume", resumePath, `{"reason":"freeze over"}`, 200)
	call("POST", p+"/skip", skipPath, `{"reason":"x"}`, 400)
	call("POST", p+"/skip", skipPath, `{"action":"notice/1"}`, 400)
	call("POST", p+"/skip", skipPath, `{"action":"milestone/shutdown","reason":"x"}`, 400)
	call("POST", p+"/skip", skipPath, `{"action":"nope/9","reason":"x"}`, 404)
	call("POST", p+"/skip", skipPath, `{"action":"notice/1","reason":"told every customer by phone"}`, 200)
	call("POST", p+"/skip", skipPath, `{"action":"notice/1","reason":"again"}`, 409)
	// Its public routes are dark until the announcement has run.
	call("POST", p+"/feedback", fbPath, `{"mood":"negative"}`, 404)
	call("GET", "/survey/billing-v1", surveyPath, "", 404)
	b.clock.Set(time.Date(2027, 1, 4, 9, 30, 0, 0, time.UTC))
	b.waitDone(t, "billing-v1", "milestone/announce")
	call("GET", p+"/guardrails", guardPath, "", 200)
	jsonBody := "Content-Type"
	call("POST", p+"/feedback", fbPath, `{"mood":"negative","category":"need_more_time","text":"两周不够"}`, 201, jsonBody, "application/json")
	call("POST", p+"/feedback", fbPath, `{"rating":4}`, 201, jsonBody, "application/json; charset=utf-8")
	call("POST", p+"/feedback", fbPath, `{"mood":"furious"}`, 400, jsonBody, "application/json")
	call("POST", p+"/feedback", fbPath, `{"mood":"negative"}`, 415, jsonBody, "text/plain")
	call("POST", p+"/feedback", fbPath, `{"mood":"negative"}`, 403, jsonBody, "application/json", "Origin", "https://evil.example")
	call("POST", p+"/feedback/import", fbImportPath, "at,mood,text\n2027-01-02 10:00,negative,late\nx,y,z\n", 200, "Content-Type", "text/csv")
	call("POST", p+"/feedback/import", fbImportPath, "", 400, "Content-Type", "text/csv")
	call("GET", p+"/feedback/summary", fbSumPath, "", 200)
	call("GET", "/feedback/billing-v1?lang=zh", formPath, "", 200)
	call("GET", "/survey/billing-v1", surveyPath, "", 200)
	svTok := "&intake_token=" + url.QueryEscape(formToken(t, b, "/survey/billing-v1"))
	call("POST", "/survey/billing-v1?lang=zh", surveyPath, "q_satisfaction=4&q_moved=yes&q_hardest=%E5%AF%BC%E5%87%BA"+svTok, 200, "Content-Type", "application/x-www-form-urlencoded")
	call("POST", "/survey/billing-v1", surveyPath, "q_satisfaction=11"+svTok, 400, "Content-Type", "application/x-www-form-urlencoded")
	call("POST", "/survey/billing-v1", surveyPath, "q_satisfaction=4", 403, "Content-Type", "application/x-www-form-urlencoded")
	form := "Content-Type"
	fbTok := "&intake_token=" + url.QueryEscape(formToken(t, b, "/feedback/billing-v1"))
	call("POST", "/feedback/billing-v1", formPath, "mood=negative&category=export_problem&text=%3Cscript%3Ealert(1)%3C%2Fscript%3E"+fbTok, 200, form, "application/x-www-form-urlencoded")
	call("POST", "/feedback/billing-v1", formPath, "mood=&text=x"+fbTok, 400, form, "application/x-www-form-urlencoded")
	call("POST", "/feedback/billing-v1", formPath, "mood=negative&text=x"+fbTok, 403, form, "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
	call("POST", "/feedback/billing-v1", formPath, "text="+strings.Repeat("x", 17<<10), 413, form, "application/x-www-form-urlencoded")
	call("POST", p+"/replan", replanPath, `{"shift":"14d"}`, 400)
	call("POST", p+"/replan", replanPath, `{"shift":"soon","reason":"x"}`, 400)
	call("POST", p+"/replan", replanPath, `{"shift":"14d","reason":"Acme needs time"}`, 200)
	call("POST", p+"/cancel", cancelPath, "", 200)
	call("POST", p+"/replan", replanPath, `{"shift":"14d","reason":"too late"}`, 409)
	call("POST", p+"/cancel", cancelPath, `{"reason":"again"}`, 409)

	// Gateways: the policy with its ETag, idempotent usage flushes.
	b.srv.Usage = &memUsage{}
	b.rehandle()
	pol := call("GET", "/api/v1/sunsets/reports-v2/policy", policyPath, "", 200)
	if r := b.do(t, "GET", "/api/v1/sunsets/reports-v2/policy", "", "If-None-Match", pol.header.Get("ETag")); r.status != 304 || len(r.body) != 0 {
		t.Fatalf("If-None-Match with the current ETag: %d %q", r.status, r.body)
	}
	flush := `{"gateway":"g1","seq":1,"counts":[{"feature":"reports","consumer":"c","hour":"2027-01-04T03:00:00Z","count":2}],"aware":[{"consumer":"c","first_seen":"2027-01-04T03:10:00Z"}]}`
	if r := call("POST", "/api/v1/sunsets/reports-v2/usage", usagePath, flush, 200); !strings.Contains(string(r.body), `"applied":true`) {
		t.Fatalf("first flush: %s", r.body)
	}
	if r := call("POST", "/api/v1/sunsets/reports-v2/usage", usagePath, flush, 200); !strings.Contains(string(r.body), `"applied":false`) {
		t.Fatalf("repeated flush: %s", r.body)
	}
	call("POST", "/api/v1/sunsets/reports-v2/usage", usagePath, `{"gateway":"g1","seq":0,"counts":[]}`, 400)
	call("POST", "/api/v1/sunsets/reports-v2/usage", usagePath, `{"gateway":"g1","seq":2,"counts":[{"feature":"reports","consumer":"c","hour":"2027-01-04T03:00:00Z","count":1,"last_at":"2027-01-04T03:59:59.5Z"}]}`, 200)
	call("POST", "/api/v1/sunsets/reports-v2/usage", usagePath, `{"gateway":"g1","seq":3,"counts":[{"feature":"reports","consumer":"c","hour":"2027-01-04T03:00:00Z","count":1,"last_at":"2027-01-04T04:00:00Z"}]}`, 400)

	// Unknown sunsets, wrong methods.
	q := "/api/v1/sunsets/nope"
	call("GET", q, sunsetPath, "", 404)
	call("GET", q+"/timeline", timelinePath, "", 404)
	call("GET", q+"/events", eventsPath, "", 404)
	call("GET", q+"/events/verify", verifyPath, "", 404)
	call("POST", q+"/pause", pausePath, `{"reason":"x"}`, 404)
	call("POST", q+"/resume", resumePath, `{"reason":"x"}`, 404)
	call("POST", q+"/cancel", cancelPath, "", 404)
	call("POST", q+"/signoffs", signoffPath, `{"stakeholder":"legal"}`, 404)
	call("POST", q+"/feedback", fbPath, `{"mood":"negative"}`, 404, "Content-Type", "application/json")
	call("GET", q+"/feedback/summary", fbSumPath, "", 404)
	call("GET", "/feedback/nope", formPath, "", 404)
	call("GET", "/survey/nope", surveyPath, "", 404)
	call("POST", q+"/replan", replanPath, `{"shift":"1d","reason":"x"}`, 404)
	call("GET", q+"/guardrails", guardPath, "", 404)
	call("GET", q+"/policy", policyPath, "", 404)
	call("POST", q+"/usage", usagePath, `{"gateway":"g1","seq":1,"counts":[]}`, 404)

	// Runbook and exports (in-memory services).
	b.srv.Runbooks, b.srv.Exports, b.srv.Retention = &fakeRunbooks{}, &fakeExports{}, &fakeRetention{}
	b.rehandle()
	const (
		runbookPath   = sunsetPath + "/runbook"
		approvePath   = sunsetPath + "/runbook/approvals"
		exportsPath   = sunsetPath + "/exports"
		exportRun     = sunsetPath + "/exports/run"
		exportCheck   = sunsetPath + "/exports/check"
		exportKeep    = sunsetPath + "/exports/keep"
		exportLink    = sunsetPath + "/exports/links/{user}"
		deleteApprove = sunsetPath + "/data/delete-approvals"
		deletePath    = sunsetPath + "/data/delete"
		exportPage    = "/exports/{name}/{token}"
		exportZip     = "/exports/{name}/{token}/download"
		billingPath   = "/api/v1/sunsets/billing-v1"
		billingLinks  = "/exports/billing-v1/"
	)
	call("GET", q+"/runbook", runbookPath, "", 404)
	call("GET", billingPath+"/runbook", runbookPath, "", 200)
	call("POST", billingPath+"/runbook/approvals", approvePath, `{"step":"nope"}`, 400)
	call("POST", billingPath+"/runbook/approvals", approvePath, `{"step":"sign-off","role":"approver"}`, 201, client.ActorHeader, "zhang.min")
	const (
		runsPath    = sunsetPath + "/runbook/runs"
		rbResume    = sunsetPath + "/runbook/resume"
		rbAbort     = sunsetPath + "/runbook/abort"
		backupsPath = sunsetPath + "/backups"
	)
	call("POST", billingPath+"/runbook/runs", runsPath, `{"dry_run":true}`, 200)
	call("POST", billingPath+"/runbook/runs", runsPath, "", 201, client.ActorHeader, "li.wei")
	call("POST", billingPath+"/runbook/runs", runsPath, `{"dry":true}`, 400)
	call("POST", q+"/runbook/runs", runsPath, "", 404)
	call("POST", billingPath+"/runbook/resume", rbResume, `{"retry":true}`, 200, client.ActorHeader, "li.wei")
	call("POST", billingPath+"/runbook/resume", rbResume, `{"retry":true,"mark_done":true}`, 400)
	call("POST", q+"/runbook/resume", rbResume, "", 404)
	call("POST", billingPath+"/runbook/abort", rbAbort, `{"reason":"postponed"}`, 200, client.ActorHeader, "li.wei")
	call("POST", billingPath+"/runbook/abort", rbAbort, `{}`, 400)
	call("POST", q+"/runbook/abort", rbAbort, `{"reason":"x"}`, 404)
	call("GET", billingPath+"/backups", backupsPath, "", 200)
	call("GET", q+"/backups", backupsPath, "", 404)
	call("POST", billingPath+"/backups", backupsPath, `{"backup":"main-db","verify":true}`, 202, client.ActorHeader, "li.wei")
	call("POST", billingPath+"/backups", backupsPath, `{"backup":"nope"}`, 400)
	call("POST", q+"/backups", backupsPath, "", 404)
	call("GET", q+"/exports", exportsPath, "", 404)
	call("GET", billingPath+"/exports", exportsPath, "", 200)
	call("POST", q+"/exports/run", exportRun, "", 404)
	call("POST", billingPath+"/exports/run", exportRun, `{"workers":1000}`, 400)
	call("POST", billingPath+"/exports/run", exportRun, `{"batch":100,"workers":4}`, 202)
	call("GET", q+"/exports/check", exportCheck, "", 404)
	call("GET", billingPath+"/exports/check", exportCheck, "", 200)
	call("POST", q+"/exports/keep", exportKeep, "", 404)
	call("POST", billingPath+"/exports/keep", exportKeep, `{"key":"x"}`, 400)
	call("POST", billingPath+"/exports/keep", exportKeep, "", 200)
	call("GET", q+"/exports/links/u1", exportLink, "", 404)
	call("GET", billingPath+"/exports/links/u1", exportLink, "", 200)
	call("POST", billingPath+"/data/delete", deletePath, "", 409)
	call("POST", q+"/data/delete-approvals", deleteApprove, "", 404)
	call("POST", billingPath+"/data/delete-approvals", deleteApprove, `{}`, 201, client.ActorHeader, "li.wei")
	call("POST", billingPath+"/data/delete-approvals", deleteApprove, "", 409, client.ActorHeader, "li.wei")
	call("POST", q+"/data/delete", deletePath, "", 404)
	call("POST", billingPath+"/data/delete", deletePath, `{"now":true}`, 400)
	call("POST", billingPath+"/data/delete", deletePath, "", 200)
	// billing-v1 is cancelled: its download pages are dark; reports-v2's are served.
	call("GET", billingLinks+"good", exportPage, "", 404)
	call("GET", billingLinks+"good/download", exportZip, "", 404)
	b.srv.Exports = &fakeExports{sunset: "reports-v2"}
	b.rehandle()
	reportsLinks := "/exports/reports-v2/"
	call("GET", reportsLinks+"good", exportPage, "", 200)
	call("GET", reportsLinks+"forged", exportPage, "", 403)
	call("GET", reportsLinks+"old", exportPage, "", 410)
	call("GET", reportsLinks+"good/download", exportZip, "", 200)
	call("GET", reportsLinks+"old/download", exportZip, "", 410)
	b.srv.Exports = &fakeExports{}
	b.rehandle()

	// The operator UI's sunset page and forms (the runbook's fake run waits for an approval).
	b.ts.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	uiForm := "application/x-www-form-urlencoded"
	call("GET", "/s/billing-v1?lang=zh", "/s/{name}", "", 200)
	call("GET", "/s/nope", "/s/{name}", "", 404)
	call("POST", "/s/billing-v1/approvals", "/s/{name}/approvals", "step=sign-off&actor=zhang.min", 303, "Content-Type", uiForm)
	call("POST", "/s/billing-v1/approvals", "/s/{name}/approvals", "step=nope", 400, "Content-Type", uiForm)
	call("GET", "/static/ui.css", "/static/{file}", "", 200)
	call("GET", "/static/ui.js", "/static/{file}", "", 200)
	call("GET", "/static/nope.css", "/static/{file}", "", 404)

	// Reports: the report and the assessment in every format, with and without accounts.
	b.srv.Reports = &memReports{}
	b.rehandle()
	call("POST", "/s/reports-v2/lessons", "/s/{name}/lessons", "text=Tell+partners+earlier.", 303, "Content-Type", uiForm)
	b.apply(t, strings.Replace(testPlan, "name: billing-v1", "name: signoff-v1", 1)) // a draft awaiting legal
	call("POST", "/s/signoff-v1/signoffs", "/s/{name}/signoffs", "stakeholder=nobody", 400, "Content-Type", uiForm)
	call("POST", "/s/signoff-v1/signoffs", "/s/{name}/signoffs", "stakeholder=legal&actor=zhang.min", 303, "Content-Type", uiForm)
	call("POST", "/s/signoff-v1/signoffs", "/s/{name}/signoffs", "stakeholder=legal", 409, "Content-Type", uiForm)
	call("POST", "/s/reports-v2/pause", "/s/{name}/pause", "actor=li.wei", 400, "Content-Type", uiForm) // no reason
	call("POST", "/s/reports-v2/pause", "/s/{name}/pause", "reason=Acme+needs+time&actor=li.wei", 303, "Content-Type", uiForm)
	call("POST", "/s/reports-v2/pause", "/s/{name}/pause", "reason=again", 409, "Content-Type", uiForm)
	call("POST", "/s/reports-v2/resume", "/s/{name}/resume", "reason=Acme+migrated&actor=li.wei", 303, "Content-Type", uiForm)
	call("POST", "/s/nope/resume", "/s/{name}/resume", "reason=x", 404, "Content-Type", uiForm)
	b.ts.Client().CheckRedirect = nil
	const (
		reportPath  = sunsetPath + "/report"
		lessonsPath = sunsetPath + "/lessons"
	)
	rp := "/api/v1/sunsets/reports-v2"
	call("GET", q+"/report", reportPath, "", 404)
	call("PUT", q+"/lessons", lessonsPath, `{"text":"x"}`, 404)
	call("PUT", rp+"/lessons", lessonsPath, `{"text":"Tell partners earlier."}`, 200, client.ActorHeader, "li.wei")
	call("PUT", rp+"/lessons", lessonsPath, `{"txt":"typo"}`, 400)
	call("GET", rp+"/contacts", sunsetPath+"/contacts", "", 200)
	call("GET", rp+"/contacts?rows=1", sunsetPath+"/contacts", "", 200)
	call("GET", q+"/contacts", sunsetPath+"/contacts", "", 404)
	call("DELETE", rp+"/contacts/acme", sunsetPath+"/contacts/{id}", "", 200, client.ActorHeader, "li.wei")
	call("DELETE", q+"/contacts/acme", sunsetPath+"/contacts/{id}", "", 404)
	call("GET", rp+"/report", reportPath, "", 200)
	call("GET", rp+"/next-plan?announce=2027-06-01", sunsetPath+"/next-plan", "", 200)
	call("GET", rp+"/next-plan?announce=soon", sunsetPath+"/next-plan", "", 400)
	call("GET", q+"/next-plan", sunsetPath+"/next-plan", "", 404)
	call("GET", rp+"/report?format=md&lang=zh", reportPath, "", 200)
	call("GET", rp+"/report?format=html", reportPath, "", 200)
	call("GET", rp+"/report?assessment=1", reportPath, "", 200)
	call("GET", rp+"/report?format=pdf", reportPath, "", 400)
	accounts := "account,consumers,revenue\nAcme,c;d,1200\n"
	call("POST", rp+"/report", reportPath, accounts, 200, "Content-Type", "text/csv")
	call("POST", rp+"/report?assessment=1&format=md", reportPath, accounts, 200, "Content-Type", "text/csv")
	call("POST", rp+"/report", reportPath, "name,revenue\n", 400, "Content-Type", "text/csv")
	call("POST", rp+"/report", reportPath, strings.Repeat("x", api.MaxAccountsCSV+1), 413, "Content-Type", "text/csv")

	// Notices: the ledger and the public pages (in-memory notices), unsubscribe links.
	b.srv.Notices, b.srv.UnsubscribeKey = &memNotices{}, []byte(testUnsubscribeKey)
	b.rehandle()
	const (
		ledgerPath = sunsetPath + "/notices"
		pagePath   = "/p/{name}"
		unsubPath  = "/unsubscribe/{token}"
	)
	token := notify.UnsubscribeToken([]byte(testUnsubscribeKey), "ops@acme.example.com")
	call("GET", billingPath+"/notices", ledgerPath, "", 200)
	call("GET", q+"/notices", ledgerPath, "", 404)
	// reports-v2 is announced; billing-v1 was cancelled, so its pages are as dark as unknown ones.
	call("GET", "/p/reports-v2", pagePath, "", 200)
	call("GET", "/p/reports-v2?lang=zh", pagePath, "", 200)
	call("GET", "/p/nope", pagePath, "", 404)
	call("GET", "/p/billing-v1", pagePath, "", 404)
	call("GET", "/p/reports-v2/feed.atom", pagePath+"/feed.atom", "", 200)
	call("GET", "/p/billing-v1/feed.atom", pagePath+"/feed.atom", "", 404)
	call("GET", "/p/reports-v2/announcements.json", pagePath+"/announcements.json", "", 200)
	call("GET", "/p/nope/announcements.json", pagePath+"/announcements.json", "", 404)
	call("GET", "/p/reports-v2/banner.js", pagePath+"/banner.js", "", 200)
	call("GET", "/p/billing-v1/banner.js", pagePath+"/banner.js", "", 404)
	call("GET", "/unsubscribe/"+token, unsubPath, "", 200)
	call("GET", "/unsubscribe/forged.AAAA", unsubPath, "", 403)
	call("POST", "/unsubscribe/"+token, unsubPath, "List-Unsubscribe=One-Click", 200, "Content-Type", "application/x-www-form-urlencoded")
	call("POST", "/unsubscribe/forged.AAAA", unsubPath, "", 403)

	// Answers no operation declares are problems too.
	problem := o.schema(t, "Problem", map[string]any{"$ref": "#/components/schemas/Problem"})
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"DELETE", "/api/v1/sunsets", 405},
		{"GET", "/api/v1/plans", 405},
		{"GET", "/api/v1/nothing", 404},
	} {
		r := b.do(t, c.method, c.path, "")
		if r.status != c.status || r.mediaType() != "application/problem+json" {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.mediaType())
		}
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
		if err := problem.Validate(v); err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
		}
	}

	// The login routes answer only with authentication on (security_test.go).
	checkAuthRoutes(t, o, covered)

	// Metrics last, so that the request counters are there; the page lists the sunsets.
	call("GET", "/metrics", "/metrics", "", 200)
	r := call("GET", "/?lang=zh", "/", "", 200)
	if !strings.Contains(string(r.body), "billing-v1") {
		t.Fatal("the status page does not list the sunsets")
	}

	for _, pattern := range tableRoutes() {
		method, path := routeOperation(pattern)
		if !covered[method+" "+path] {
			t.Errorf("no successful call of %s was checked against the document", pattern)
		}
	}
}

// TestOpenAPIServed checks that the served document is the embedded one and is JSON.
func TestOpenAPIServed(t *testing.T) {
	b := setup(t)
	r := b.do(t, http.MethodGet, "/api/v1/openapi.json", "")
	if r.status != http.StatusOK || r.mediaType() != "application/json" || !bytes.Equal(r.body, api.OpenAPI()) {
		t.Fatalf("%d %s", r.status, r.mediaType())
	}
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	if slices.Contains([]string{"", "<nil>"}, fmt.Sprint(v["openapi"])) {
		t.Fatal("no openapi version")
	}
}
