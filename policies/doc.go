// Package policies is role-based authorization (casbin) per commune and département; built by the write-side issue.
package policies
