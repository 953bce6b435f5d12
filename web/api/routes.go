package api

import (
	"net/http"

	"github.com/sunsetops/sunset/web/auth"
)

// Routes are the API's routes with the least role each needs.
func (s *Server) Routes() []auth.Route {
	hf := func(f http.HandlerFunc) http.Handler { return f }
	return []auth.Route{
		{Pattern: "GET /api/v1/openapi.json", Role: auth.RolePublic, Handler: hf(s.handleOpenAPI)},
		{Pattern: bundleRoute, Role: auth.RoleOperator, Handler: hf(s.handlePlanApply), MaxBody: s.maxBundle()},
		{Pattern: "GET /api/v1/sunsets", Role: auth.RoleViewer, Handler: hf(s.handleSunsetList)},
		{Pattern: "GET /api/v1/sunsets/{name}", Role: auth.RoleViewer, Handler: hf(s.handleSunsetGet)},
		{Pattern: "GET /api/v1/sunsets/{name}/timeline", Role: auth.RoleViewer, Handler: hf(s.handleTimelineGet)},
		{Pattern: "GET /api/v1/sunsets/{name}/plan", Role: auth.RoleViewer, Handler: hf(s.handleSunsetPlanGet)},
		{Pattern: "GET /api/v1/sunsets/{name}/next-plan", Role: auth.RoleViewer, Handler: hf(s.handleNextPlan)},
		{Pattern: "GET /api/v1/sunsets/{name}/events", Role: auth.RoleViewer, Handler: hf(s.handleEventList)},
		{Pattern: "GET /api/v1/sunsets/{name}/events/verify", Role: auth.RoleViewer, Handler: hf(s.handleEventVerify)},
		{Pattern: "POST /api/v1/sunsets/{name}/pause", Role: auth.RoleOperator, Handler: hf(s.handleSunsetPause)},
		{Pattern: "POST /api/v1/sunsets/{name}/resume", Role: auth.RoleOperator, Handler: hf(s.handleSunsetResume)},
		{Pattern: "POST /api/v1/sunsets/{name}/skip", Role: auth.RoleOperator, Handler: hf(s.handleSunsetSkip)},
		{Pattern: "POST /api/v1/sunsets/{name}/cancel", Role: auth.RoleOperator, Handler: hf(s.handleSunsetCancel)},
		{Pattern: "POST /api/v1/sunsets/{name}/signoffs", Role: auth.RoleApprover, Handler: hf(s.handleSignoffCreate)},
		{Pattern: "GET /api/v1/sunsets/{name}/policy", Role: auth.RoleViewer, Handler: hf(s.handlePolicyGet)},
		{Pattern: "POST /api/v1/sunsets/{name}/usage", Role: auth.RoleOperator, Handler: hf(s.handleUsageCreate)},
		{Pattern: "POST /api/v1/sunsets/{name}/replan", Role: auth.RoleOperator, Handler: hf(s.handleSunsetReplan)},
		{Pattern: "GET /api/v1/sunsets/{name}/guardrails", Role: auth.RoleViewer, Handler: hf(s.handleGuardrailList)},
		{Pattern: "POST /api/v1/sunsets/{name}/feedback", Role: auth.RolePublic, Handler: hf(s.handleFeedbackCreate)},
		{Pattern: "POST /api/v1/sunsets/{name}/feedback/import", Role: auth.RoleOperator, Handler: hf(s.handleFeedbackImport)},
		{Pattern: "GET /api/v1/sunsets/{name}/feedback/summary", Role: auth.RoleViewer, Handler: hf(s.handleFeedbackSummary)},
		{Pattern: "GET /api/v1/sunsets/{name}/runbook", Role: auth.RoleViewer, Handler: hf(s.handleRunbookGet)},
		{Pattern: "POST /api/v1/sunsets/{name}/runbook/runs", Role: auth.RoleOperator, Handler: hf(s.handleRunbookStart)},
		{Pattern: "POST /api/v1/sunsets/{name}/runbook/approvals", Role: auth.RoleApprover, Handler: hf(s.handleRunbookApprove)},
		{Pattern: "POST /api/v1/sunsets/{name}/runbook/resume", Role: auth.RoleOperator, Handler: hf(s.handleRunbookResume)},
		{Pattern: "POST /api/v1/sunsets/{name}/runbook/abort", Role: auth.RoleOperator, Handler: hf(s.handleRunbookAbort)},
		{Pattern: "GET /api/v1/sunsets/{name}/backups", Role: auth.RoleViewer, Handler: hf(s.handleBackupList)},
		{Pattern: "POST /api/v1/sunsets/{name}/backups", Role: auth.RoleOperator, Handler: hf(s.handleBackupCreate)},
		{Pattern: "GET /api/v1/sunsets/{name}/exports", Role: auth.RoleViewer, Handler: hf(s.handleExportStatus)},
		{Pattern: "POST /api/v1/sunsets/{name}/exports/run", Role: auth.RoleOperator, Handler: hf(s.handleExportRun)},
		{Pattern: "GET /api/v1/sunsets/{name}/exports/check", Role: auth.RoleViewer, Handler: hf(s.handleExportCheck)},
		{Pattern: "POST /api/v1/sunsets/{name}/exports/keep", Role: auth.RoleOperator, Handler: hf(s.handleExportKeep)},
		{Pattern: "GET /api/v1/sunsets/{name}/exports/links/{user}", Role: auth.RoleOperator, Handler: hf(s.handleExportLink)},
		{Pattern: "POST /api/v1/sunsets/{name}/data/delete-approvals", Role: auth.RoleApprover, Handler: hf(s.handleDeleteApprove)},
		{Pattern: "POST /api/v1/sunsets/{name}/data/delete", Role: auth.RoleOperator, Handler: hf(s.handleDataDelete)},
		{Pattern: "GET /api/v1/sunsets/{name}/report", Role: auth.RoleViewer, Handler: hf(s.handleReport)},
		{Pattern: "POST /api/v1/sunsets/{name}/report", Role: auth.RoleOperator, Handler: hf(s.handleReport)},
		{Pattern: "PUT /api/v1/sunsets/{name}/lessons", Role: auth.RoleOperator, Handler: hf(s.handleLessonsPut)},
		{Pattern: "GET /api/v1/sunsets/{name}/contacts", Role: auth.RoleViewer, Handler: hf(s.handleContactsGet)},
		{Pattern: "DELETE /api/v1/sunsets/{name}/contacts/{id}", Role: auth.RoleOperator, Handler: hf(s.handleContactErase)},
		{Pattern: "GET /api/v1/sunsets/{name}/notices", Role: auth.RoleViewer, Handler: hf(s.handleNoticeLedger)},
	}
}
