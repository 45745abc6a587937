// Package incidents is the incidents service: lifecycle and main courante; built by the write-side issue.
package incidents
