package embedded

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// The process that opens a log holds its directory lock, so nothing else may open it
// while it serves. A backup must therefore be asked of that process: it answers on a
// unix socket in the log's directory, readable and writable by its own user only (the
// same user who may read the log's files anyway). The socket is local by nature: no
// port, no token, nothing reachable from the network.
//
// The protocol is one JSON line each way: {"op":"checkpoint","dir":ABS} → {} or
// {"error":"…"}.

// AdminSocket is the name of the socket in the log's directory.
const AdminSocket = "admin.sock"

// ErrNoServer: no process answers on the log's admin socket.
var ErrNoServer = errors.New("embedded: no running store answers on its admin socket")

type adminServer struct {
	lis  net.Listener
	path string
	wg   sync.WaitGroup
}

type adminRequest struct {
	Op  string `json:"op"`
	Dir string `json:"dir"`
}

type adminResponse struct {
	Error string `json:"error,omitempty"`
}

// listenAdmin starts answering on Dir/admin.sock; nil if the socket cannot be made
// (a path too long for a unix socket, a read-only directory).
func (s *Store) listenAdmin() *adminServer {
	path := filepath.Join(s.cfg.Dir, AdminSocket)
	// This process holds the directory lock: a socket file left there is a dead
	// process's.
	_ = os.Remove(path)
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = lis.Close()
		return nil
	}
	a := &adminServer{lis: lis, path: path}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				s.answerAdmin(conn)
			}()
		}
	}()
	return a
}

func (a *adminServer) close() {
	_ = a.lis.Close() // removes the socket file too
	a.wg.Wait()
}

func (s *Store) answerAdmin(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req adminRequest
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	var resp adminResponse
	switch {
	case err != nil:
		resp.Error = "malformed request"
	case req.Op != "checkpoint":
		resp.Error = fmt.Sprintf("unknown operation %q", req.Op)
	case !filepath.IsAbs(req.Dir):
		resp.Error = "checkpoint directory must be an absolute path"
	default:
		if err := s.Checkpoint(req.Dir); err != nil {
			resp.Error = err.Error()
		}
	}
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	b, _ := json.Marshal(resp)
	_, _ = conn.Write(append(b, '\n'))
}

// Checkpoint writes a consistent copy of the log to dir, which must not exist: every
// batch committed before the call, and no part of a later one (appends go on meanwhile).
// Tables are hard-linked when dir is on the same file system, so it is fast and small.
func (s *Store) Checkpoint(dir string) error {
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("embedded: checkpoint: %w", err)
	}
	return nil
}

// RequestCheckpoint asks the process serving the log in storeDir for a checkpoint
// into dir (absolute, not existing). ErrNoServer when no process answers.
func RequestCheckpoint(ctx context.Context, storeDir, dir string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", filepath.Join(storeDir, AdminSocket))
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrNoServer, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	b, _ := json.Marshal(adminRequest{Op: "checkpoint", Dir: dir})
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("embedded: admin socket: %w", err)
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("embedded: admin socket: no answer: %w", err)
	}
	var resp adminResponse
	if err := json.Unmarshal(line, &resp); err != nil {
		return fmt.Errorf("embedded: admin socket: malformed answer: %w", err)
	}
	if resp.Error != "" {
		return fmt.Errorf("embedded: the running store refused the checkpoint: %s", resp.Error)
	}
	return nil
}
