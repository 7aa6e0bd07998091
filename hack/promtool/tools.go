//go:build tools

// Package tools pins Prometheus, whose promtool checks and unit-tests the rendered
// PrometheusRule groups (tests/integration/monitoring).
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
