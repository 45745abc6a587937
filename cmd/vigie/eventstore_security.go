package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"

	"vigie/events/embedded"
)

// errUsage marks an error of the command line (exit code 2).
type errUsage struct{ error }

// eventstoreSecurity decides how `vigie serve eventstore` serves the store in dir, and
// makes what a secure store needs at its first start. Secure — users (DIR/users.json)
// and TLS — with --secure, off loopback, or with given certificate files; then the
// admin's password is generated into DIR/admin.password (0600) at the first start, and
// the TLS certificate is made from a private CA (DIR/ca.pem) unless files are given.
// Insecure — no users, no TLS — only on loopback, and it says so at start.
func eventstoreSecurity(dir, listen, certFile, keyFile string, sans []string, secure, insecure bool, log *slog.Logger, stderr io.Writer) (embedded.ListenConfig, error) {
	lc := embedded.ListenConfig{Addr: listen}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return lc, errUsage{fmt.Errorf("--listen %q: %w", listen, err)}
	}
	loopback := isLoopbackHost(host)
	given := certFile != "" || keyFile != ""
	switch {
	case (certFile == "") != (keyFile == ""):
		return lc, errUsage{errors.New("TLS needs both --tls-cert and --tls-key")}
	case insecure && secure:
		return lc, errUsage{errors.New("--secure and --insecure together: users and TLS, or neither")}
	case insecure && !loopback:
		return lc, errUsage{fmt.Errorf("--insecure (no users, no TLS) is for a loopback address only, not %q", listen)}
	case insecure && given:
		return lc, errUsage{errors.New("--insecure (no TLS) with --tls-cert/--tls-key")}
	case !insecure && (secure || !loopback || given):
		secure = true
	}
	if !secure {
		log.Warn("INSECURE: no users and no TLS; any local process can read and append to the log (loopback development only; --secure turns them on)")
		return lc, nil
	}
	pwFile, err := embedded.EnsureUsers(dir)
	if err != nil {
		return lc, err
	}
	if pwFile != "" {
		// Once, at the first start; the password itself never goes to a log.
		fmt.Fprintf(stderr, "admin password in %s\n", pwFile)
	}
	if lc.Users, err = embedded.LoadUsers(filepath.Join(dir, embedded.UsersFile)); err != nil {
		return lc, err
	}
	if given {
		lc.CertFile, lc.KeyFile = certFile, keyFile
		log.Info("secure: users and TLS", "users", filepath.Join(dir, embedded.UsersFile), "cert", certFile)
		return lc, nil
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		sans = append([]string{host}, sans...)
	}
	files, err := embedded.EnsureTLS(dir, sans)
	if err != nil {
		return lc, err
	}
	if files.CAMade {
		fmt.Fprintf(stderr, "CA certificate in %s (clients: tls=true&tlsCAFile=%s)\n", files.CA, files.CA)
	}
	lc.CertFile, lc.KeyFile = files.Cert, files.Key
	log.Info("secure: users and TLS", "users", filepath.Join(dir, embedded.UsersFile), "ca", files.CA)
	return lc, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
