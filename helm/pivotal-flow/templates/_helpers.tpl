{{/* Names and labels of every object: defined here only. */}}

{{- define "pivotal-flow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pivotal-flow.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<fullname>-<component>": the Deployment, Service, ServiceAccount... of one workload.
     Call with (dict "root" $ "component" "identity"). */}}
{{- define "pivotal-flow.componentName" -}}
{{- printf "%s-%s" (include "pivotal-flow.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pivotal-flow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable across chart versions (an upgrade must not orphan pods). */}}
{{- define "pivotal-flow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pivotal-flow.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of every object; (dict "root" $ "component" "identity"). */}}
{{- define "pivotal-flow.labels" -}}
{{ include "pivotal-flow.selectorLabels" . }}
app.kubernetes.io/part-of: pivotal-flow
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "pivotal-flow.chart" .root }}
{{- end }}

{{/* Labels of objects that belong to the release as a whole (ConfigMap, policies). */}}
{{- define "pivotal-flow.releaseLabels" -}}
{{ include "pivotal-flow.labels" (dict "root" . "component" "release") }}
{{- end }}

{{/* The ServiceAccount of a workload: its SPIFFE identity. */}}
{{- define "pivotal-flow.serviceAccountName" -}}
{{ include "pivotal-flow.componentName" . }}
{{- end }}

{{/* The Istio principal of a workload: <trustDomain>/ns/<namespace>/sa/<serviceAccount>. */}}
{{- define "pivotal-flow.principal" -}}
{{ printf "%s/ns/%s/sa/%s" .root.Values.mesh.trustDomain .root.Release.Namespace (include "pivotal-flow.serviceAccountName" .) }}
{{- end }}

{{/* The cluster-local DNS name of a workload's Service. */}}
{{- define "pivotal-flow.host" -}}
{{ printf "%s.%s.svc.%s" (include "pivotal-flow.componentName" .) .root.Release.Namespace .root.Values.clusterDomain }}
{{- end }}

{{- define "pivotal-flow.waypointName" -}}
{{ default (printf "%s-waypoint" (include "pivotal-flow.fullname" .)) .Values.mesh.ambient.waypointName }}
{{- end }}

{{- define "pivotal-flow.image" -}}
{{- if .Values.image.digest -}}
{{ printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else -}}
{{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Seconds Kubernetes waits after the preStop hook began: the preStop delay, the
     services' own drain (PIVOTAL_GRACE_PERIOD_SECONDS) and a margin. */}}
{{- define "pivotal-flow.terminationGracePeriodSeconds" -}}
{{ add .Values.pod.preStopSeconds .Values.config.gracePeriodSeconds 5 }}
{{- end }}

{{/* The settings every workload reads (ConfigMap data; the migration Job's env). */}}
{{- define "pivotal-flow.settings" -}}
PIVOTAL_MODE: services
PIVOTAL_HOST: 0.0.0.0
PIVOTAL_SERVICE_ADDRESS_TEMPLATE: {{ printf "%s-{service}:{port}" (include "pivotal-flow.fullname" .) | quote }}
{{- range $name, $service := .Values.services }}
{{ printf "PIVOTAL_%s_PORT" (upper $name) }}: {{ $service.port | quote }}
{{- end }}
PIVOTAL_JWT_ISSUER: {{ .Values.config.jwtIssuer | quote }}
PIVOTAL_JWT_AUDIENCE: {{ .Values.config.jwtAudience | quote }}
PIVOTAL_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
PIVOTAL_LOG_JSON: "true"
PIVOTAL_GRACE_PERIOD_SECONDS: {{ .Values.config.gracePeriodSeconds | quote }}
PIVOTAL_DEFAULT_DEADLINE_SECONDS: {{ .Values.config.defaultDeadlineSeconds | quote }}
PIVOTAL_STATE_DIR: /tmp/pivotal
{{- with .Values.config.otlpEndpoint }}
PIVOTAL_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.config.extraEnv }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* Variables taken from the operator's existing Secret. */}}
{{- define "pivotal-flow.secretEnv" -}}
{{- $secret := .Values.secrets.existingSecret }}
- name: PIVOTAL_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: {{ .Values.secrets.keys.databaseUrl }}}}
- name: PIVOTAL_AMQP_URL
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: {{ .Values.secrets.keys.amqpUrl }}}}
- name: PIVOTAL_IDENTITY_KEY_ENCRYPTION_KEY
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: {{ .Values.secrets.keys.keyEncryptionKey }}}}
- name: PIVOTAL_IDENTITY_PLATFORM_CLIENT_SECRETS
  valueFrom: {secretKeyRef: {name: {{ $secret }}, key: {{ .Values.secrets.keys.platformClientSecrets }}, optional: true}}
{{- end }}

{{- define "pivotal-flow.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.pod.runAsUser }}
runAsGroup: {{ .Values.pod.runAsUser }}
fsGroup: {{ .Values.pod.runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "pivotal-flow.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end }}

{{/* Scheduling shared by every Deployment; (dict "root" $ "component" "identity"). */}}
{{- define "pivotal-flow.scheduling" -}}
{{- with .root.Values.pod.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.pod.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.pod.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .root.Values.pod.topologySpread }}
topologySpreadConstraints:
{{- range $key := list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
  - maxSkew: 1
    topologyKey: {{ $key }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels: {{- include "pivotal-flow.selectorLabels" $ | nindent 8 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod annotations: the mesh's, then the operator's. */}}
{{- define "pivotal-flow.podAnnotations" -}}
{{- if eq .Values.mesh.mode "sidecar" }}
sidecar.istio.io/inject: "true"
{{- end }}
{{- with .Values.pod.annotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Missing required values stop the render with a ready-to-run fix. */}}
{{- define "pivotal-flow.validateValues" -}}
{{- if not .Values.secrets.existingSecret }}
{{- fail (printf "\n\nsecrets.existingSecret is required: the name of a Secret holding %s, %s and %s.\nCreate it and install again, for example:\n\n  kubectl -n %s create secret generic %s \\\n    --from-literal=%s='postgresql+psycopg://pivotal:<password>@<postgres-host>:5432/pivotal' \\\n    --from-literal=%s='amqp://pivotal:<password>@<rabbitmq-host>:5672/%%2F' \\\n    --from-literal=%s=\"$(openssl rand -base64 32)\"\n  helm upgrade --install %s <chart> -n %s --set secrets.existingSecret=%s\n" .Values.secrets.keys.databaseUrl .Values.secrets.keys.amqpUrl .Values.secrets.keys.keyEncryptionKey (default "default" .Release.Namespace) (include "pivotal-flow.fullname" .) .Values.secrets.keys.databaseUrl .Values.secrets.keys.amqpUrl .Values.secrets.keys.keyEncryptionKey .Release.Name (default "default" .Release.Namespace) (include "pivotal-flow.fullname" .)) }}
{{- end }}
{{- $known := list "identity" "quotation" "project" "time" "billing" }}
{{- range $name, $_ := .Values.services }}
{{- if not (has $name $known) }}
{{- fail (printf "\n\nservices.%s: unknown service; the services are %s. Remove it from your values:\n\n  helm upgrade --install %s <chart> --reuse-values --set services.%s=null\n" $name (join ", " $known) $.Release.Name $name) }}
{{- end }}
{{- end }}
{{- range $name := $known }}
{{- if not (hasKey $.Values.services $name) }}
{{- fail (printf "\n\nservices.%s is missing; every service needs its block (see the chart's values.yaml). Restore the default with:\n\n  helm upgrade --install %s <chart> --reset-values -f <your values>\n" $name $.Release.Name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The gateway's own settings (PIVOTAL_GATEWAY_*). */}}
{{- define "pivotal-flow.gatewayEnv" -}}
- {name: PIVOTAL_GATEWAY_HOST, value: 0.0.0.0}
- {name: PIVOTAL_GATEWAY_PORT, value: {{ .Values.gateway.port | quote }}}
- {name: PIVOTAL_GATEWAY_ADMIN_HOST, value: 127.0.0.1}
- {name: PIVOTAL_GATEWAY_UPSTREAM_ADDRESS_TEMPLATE, value: {{ printf "%s-{service}:{port}" (include "pivotal-flow.fullname" .) | quote }}}
- {name: PIVOTAL_GATEWAY_CONFIG_DIR, value: /tmp/gateway}
- {name: PIVOTAL_GATEWAY_CONCURRENCY, value: {{ .Values.gateway.concurrency | quote }}}
- {name: PIVOTAL_GATEWAY_DRAIN_SECONDS, value: {{ .Values.config.gracePeriodSeconds | quote }}}
- {name: PIVOTAL_GATEWAY_CORS_ORIGINS, value: {{ join "," .Values.gateway.corsOrigins | quote }}}
{{- range $key, $value := .Values.gateway.extraEnv }}
- {name: {{ $key }}, value: {{ $value | quote }}}
{{- end }}
{{- end }}

{{/* Every pod of the release (NetworkPolicies, PeerAuthentication). */}}
{{- define "pivotal-flow.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "pivotal-flow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The contracts' mesh data (generated by `python -m pivotal_mesh render`). */}}
{{- define "pivotal-flow.meshData" -}}
{{ .Files.Get "files/mesh-policy.json" }}
{{- end }}

{{/* Labels the mesh needs on pods: ambient enrols them in ztunnel. */}}
{{- define "pivotal-flow.podMeshLabels" -}}
{{- if eq .Values.mesh.mode "ambient" }}
istio.io/dataplane-mode: ambient
{{- end }}
{{- end }}

{{/* Labels the mesh needs on Services: ambient routes them through the waypoint. */}}
{{- define "pivotal-flow.serviceMeshLabels" -}}
{{- if eq .Values.mesh.mode "ambient" }}
istio.io/use-waypoint: {{ include "pivotal-flow.waypointName" . }}
{{- end }}
{{- end }}
