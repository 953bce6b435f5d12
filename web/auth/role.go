package auth

// Role is what a caller may do. Each role includes the ones before it: an operator may do what a
// viewer may, an approver what an operator may, an admin everything.
type Role int

const (
	// RolePublic routes need no credentials: public pages, forms, probes.
	RolePublic Role = iota
	// RoleViewer reads sunsets, timelines, events, reports.
	RoleViewer
	// RoleOperator applies plans, pauses, resumes, re-plans and starts runbooks.
	RoleOperator
	// RoleApprover approves runbook steps and the deletion of data.
	RoleApprover
	// RoleAdmin manages tokens and users.
	RoleAdmin
)

// String names the role as the CLI and the API spell it.
func (r Role) String() string {
	switch r {
	case RolePublic:
		return "public"
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	case RoleApprover:
		return "approver"
	case RoleAdmin:
		return "admin"
	}
	return "unknown"
}
