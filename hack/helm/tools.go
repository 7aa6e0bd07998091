//go:build tools

// Package tools pins Helm, which the tests use to lint and render deploy/helm/.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
