package embedded

// Flush writes the memtable to a table, so a test can put events in the tables and
// not only in the write-ahead log.
func (s *Store) Flush() error { return s.db.Flush() }
