package embedded

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The files of a secure store's private certificate authority and server certificate,
// in its directory (DIR/eventstore). Clients trust CAFile: tlsCAFile=DIR/eventstore/ca.pem.
const (
	CAFile         = "ca.pem"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.pem"
	ServerKeyFile  = "server.key"
)

// TLSFiles are the paths EnsureTLS gives.
type TLSFiles struct {
	CA, Cert, Key string
	CAMade        bool // the CA was made by this call (first start)
}

// EnsureTLS makes, in storeDir, a private CA (ECDSA P-256, 10 years; its key 0600)
// unless there is one, and a server certificate it signs (1 year) for localhost,
// 127.0.0.1, ::1 and hosts, unless the one there covers them all and has more than 30
// days left; both are reused by the next starts.
func EnsureTLS(storeDir string, hosts []string) (TLSFiles, error) {
	f := TLSFiles{CA: filepath.Join(storeDir, CAFile), Cert: filepath.Join(storeDir, ServerCertFile), Key: filepath.Join(storeDir, ServerKeyFile)}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return f, err
	}
	caKeyPath := filepath.Join(storeDir, CAKeyFile)
	ca, caKey, err := loadPair(f.CA, caKeyPath)
	if errors.Is(err, os.ErrNotExist) {
		if ca, caKey, err = makeCA(f.CA, caKeyPath); err == nil {
			f.CAMade = true
		}
	}
	if err != nil {
		return f, fmt.Errorf("embedded: CA: %w", err)
	}
	names := append([]string{"localhost", "127.0.0.1", "::1"}, hosts...)
	if leaf, _, err := loadPair(f.Cert, f.Key); err == nil && !f.CAMade && leaf.CheckSignatureFrom(ca) == nil &&
		time.Until(leaf.NotAfter) > 30*24*time.Hour && covers(leaf, names) {
		return f, nil
	}
	if err := makeServerCert(f.Cert, f.Key, ca, caKey, names); err != nil {
		return f, fmt.Errorf("embedded: server certificate: %w", err)
	}
	return f, nil
}

func covers(leaf *x509.Certificate, names []string) bool {
	for _, n := range names {
		if n == "" {
			continue
		}
		if leaf.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

func loadPair(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		if _, serr := os.Stat(certPath); errors.Is(serr, os.ErrNotExist) {
			return nil, nil, serr
		}
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not an ECDSA key", keyPath)
	}
	return leaf, key, nil
}

func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
}

func makeCA(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "vigie event store CA " + serial.Text(16)[:8]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		IsCA:     true, BasicConstraintsValid: true, MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	// The key first: a crash between the two leaves no ca.pem, so the next start makes
	// a new pair rather than finding a certificate without its key.
	if err := writeKey(keyPath, key); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return nil, nil, err
	}
	if err := os.Chmod(certPath, 0o644); err != nil { // public: the clients' machines copy it
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func makeServerCert(certPath, keyPath string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, names []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := serialNumber()
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "vigie event store"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		if ip := net.ParseIP(n); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if !slices.Contains(tmpl.DNSNames, n) {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writeKey(keyPath, key); err != nil {
		return err
	}
	return writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// SecurityFiles are the names of the files a secure store keeps in its directory beside
// the log: its users, the admin's first password, its CA and server certificate. A
// backup (a Pebble checkpoint) holds none of them; a tool replacing the directory (a
// restore) should carry them over, or the clients' CA and the users change.
func SecurityFiles() []string {
	return []string{UsersFile, AdminPasswordFile, CAFile, CAKeyFile, ServerCertFile, ServerKeyFile}
}
