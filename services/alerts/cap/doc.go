// Package cap writes and reads CAP 1.2 messages (urn:oasis:names:tc:emergency:cap:1.2) and
// the Atom feed each commune publishes of them. It is stdlib only and refuses, before
// writing, what the official schema or the CAP rules would reject, so that a message that
// leaves Vigie is one any CAP consumer accepts.
package cap
