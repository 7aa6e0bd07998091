{{/* Object name; one operator per cluster, so it does not depend on the release name. */}}
{{- define "tcclog-operator.name" -}}
{{- .Values.fullnameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: the same as the kustomize install's, so either can replace the other. */}}
{{- define "tcclog-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tcclog-operator.name" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "tcclog-operator.labels" -}}
app.kubernetes.io/name: {{ include "tcclog-operator.name" . }}
app.kubernetes.io/part-of: tcclog
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "tcclog-operator.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The ClusterRole's rules, read from the kustomize base (files/rbac.yaml links to
     deploy/base/rbac.yaml): one list of permissions for both installs. */}}
{{- define "tcclog-operator.rules" -}}
{{- range $doc := splitList "\n---\n" (.Files.Get "files/rbac.yaml") -}}
{{- $obj := fromYaml $doc -}}
{{- if eq (get $obj "kind") "ClusterRole" -}}
{{ toYaml (get $obj "rules") }}
{{- end -}}
{{- end -}}
{{- end -}}
