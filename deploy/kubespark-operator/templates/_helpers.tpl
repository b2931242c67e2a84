{{- define "kubespark.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kubespark.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kubespark.image" -}}
{{- $repo := .Values.image.repository -}}
{{- with .Values.image.registry }}{{ $repo = printf "%s/%s" . $repo }}{{ end -}}
{{- printf "%s:%s" $repo (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The job namespaces as a list; empty when every namespace is watched ("" in the list). */}}
{{- define "kubespark.jobNamespaces" -}}
{{- if has "" .Values.spark.jobNamespaces -}}
{{- else -}}
{{- join "," .Values.spark.jobNamespaces -}}
{{- end -}}
{{- end -}}

{{- define "kubespark.sparkServiceAccountName" -}}
{{- default (printf "%s-spark" (include "kubespark.fullname" .)) .Values.spark.serviceAccount.name -}}
{{- end -}}

{{- define "kubespark.labels" -}}
app.kubernetes.io/name: {{ include "kubespark.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubespark
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kubespark.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubespark.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubespark.serviceAccountName" -}}
{{- default (include "kubespark.fullname" .) .Values.controller.serviceAccount.name -}}
{{- end -}}

{{/* The namespaces the operator's namespaced objects go to: the list, else the release's. */}}
{{- define "kubespark.sparkNamespaces" -}}
{{- if include "kubespark.jobNamespaces" . -}}
{{- include "kubespark.jobNamespaces" . -}}
{{- else -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* The operator's rules for the namespaces it works in (a ClusterRole, or a Role in each). */}}
{{- define "kubespark.namespacedRules" }}
# Driver pods: created (POST) and deleted on reruns; watched for their state.
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete]
# The driver's Service and ConfigMaps (POST or server-side apply, as the server accepts) and
# the web UI Service.
- apiGroups: [""]
  resources: [services, configmaps]
  verbs: [get, create, update, patch, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [networking.k8s.io, extensions]
  resources: [ingresses]
  verbs: [get, create, update, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, create, update, patch, delete]
# Applications: watched; created (scheduled runs) and deleted (TTL, run history).
- apiGroups: [sparkoperator.k8s.io]
  resources: [sparkapplications]
  verbs: [get, list, watch, create, delete]
- apiGroups: [sparkoperator.k8s.io]
  resources: [scheduledsparkapplications]
  verbs: [get, list, watch]
- apiGroups: [sparkoperator.k8s.io]
  resources: [sparkapplications/status, scheduledsparkapplications/status]
  verbs: [get, update]
# SparkConnect servers: watched; their status written (the server pod, Service and ConfigMap
# are covered above).
- apiGroups: [sparkoperator.k8s.io]
  resources: [sparkconnects]
  verbs: [get, list, watch]
- apiGroups: [sparkoperator.k8s.io]
  resources: [sparkconnects/status]
  verbs: [get, update]
{{- end }}

{{/* Grants behind values: what the operator's flags that the values turn on write. */}}
{{- define "kubespark.optionalRules" }}
{{- if .Values.controller.driverPodDisruptionBudget.enable }}
# --enable-driver-pdb: a PodDisruptionBudget over each opted-in driver while it runs (policy/v1,
# or policy/v1beta1 before 1.21: RBAC names the group, so one rule serves both).
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, create, delete]
{{- end }}
{{- if .Values.controller.batchScheduler.enable }}
# Batch schedulers: Volcano's PodGroup (scheduling.volcano.sh) and the coscheduling plugin's
# (scheduling.x-k8s.io; scheduling.sigs.k8s.io in scheduler-plugins before v0.24), written at
# submission, kept at their minimum member count, deleted when the application terminates.
- apiGroups: [scheduling.volcano.sh, scheduling.x-k8s.io, scheduling.sigs.k8s.io]
  resources: [podgroups]
  verbs: [get, create, patch, delete]
{{- end }}
{{- end }}
