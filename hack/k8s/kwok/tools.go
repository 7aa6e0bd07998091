//go:build tools

// Package tools pins KWOK, which fakes nodes and marks pods Running/Ready.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
