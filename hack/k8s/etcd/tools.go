//go:build tools

// Package tools pins etcd for the local test cluster (Debian's 3.4 is too old
// for current Kubernetes).
package tools

import _ "go.etcd.io/etcd/server/v3"
