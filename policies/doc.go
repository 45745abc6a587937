// Package policies decides who may do what where: casbin v2 with domains, the
// roles of the crisis cell (described in policy.csv) as permissions, grants per département or
// commune (model.conf). Grants come from the event log (package role, applied
// at runtime by Follow) and from development tokens (package identity). The
// gateway and every service ask Authorize before acting.
package policies
