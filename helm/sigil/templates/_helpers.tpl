{{/* Names. */}}
{{- define "sigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sigil.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sigil.store.fullname" -}}{{ include "sigil.fullname" . }}-store{{- end -}}
{{- define "sigil.store.headless" -}}{{ include "sigil.fullname" . }}-store-nodes{{- end -}}
{{- define "sigil.keys.secretName" -}}{{ default (printf "%s-keys" (include "sigil.fullname" .)) .Values.keys.kubernetes.secretName }}{{- end -}}
{{- define "sigil.rotator.name" -}}{{ include "sigil.fullname" . }}-key-rotation{{- end -}}
{{- define "sigil.keysInit.name" -}}{{ include "sigil.fullname" . }}-keys-init{{- end -}}

{{- define "sigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sigil.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels. */}}
{{- define "sigil.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "sigil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sigil
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: token, store, key-rotation, keys-init, test. */}}
{{- define "sigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sigil.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sigil.componentLabels" -}}
{{ include "sigil.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sigil.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* The issuer: set, or derived from the Ingress, or the in-cluster Service name. */}}
{{- define "sigil.issuer" -}}
{{- if .Values.issuer -}}
{{- .Values.issuer | trimSuffix "/" -}}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts -}}
{{- $host := (first .Values.ingress.hosts).host -}}
{{- $scheme := ternary "https" "http" (gt (len .Values.ingress.tls) 0) -}}
{{- printf "%s://%s" $scheme $host -}}
{{- else if and .Values.httpRoute.enabled .Values.httpRoute.hostnames -}}
{{- printf "https://%s" (first .Values.httpRoute.hostnames) -}}
{{- else -}}
{{- $port := ternary "" (printf ":%d" (int .Values.service.port)) (eq (int .Values.service.port) 80) -}}
{{- printf "http://%s.%s.svc.cluster.local%s" (include "sigil.fullname" .) .Release.Namespace $port -}}
{{- end -}}
{{- end -}}

{{/* The store nodes' URLs, as `sigil store --statefulset` derives its peers. */}}
{{- define "sigil.store.endpoints" -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.store.replicas) -}}
{{- $urls = append $urls (printf "http://%s-%d.%s:%d" (include "sigil.store.fullname" $) $i (include "sigil.store.headless" $) (int $.Values.store.port)) -}}
{{- end -}}
{{- join "," $urls -}}
{{- end -}}

{{/* Fails rendering on values the schema cannot express. */}}
{{- define "sigil.validate" -}}
{{- $replicas := int .Values.store.replicas -}}
{{- if not (or (eq $replicas 3) (eq $replicas 5)) -}}
{{- fail (printf "store.replicas must be 3 or 5 (a Raft majority that survives one or two nodes down), not %d" $replicas) -}}
{{- end -}}
{{- if and .Values.config.existingConfigMap .Values.config.existingSecret -}}
{{- fail "config: set existingConfigMap or existingSecret, not both" -}}
{{- end -}}
{{- $source := .Values.keys.source -}}
{{- if eq $source "azure" -}}
{{- if not .Values.keys.azure.vaultUrl -}}{{- fail "keys.azure.vaultUrl is required with keys.source=azure" -}}{{- end -}}
{{- if not (or .Values.keys.azure.certificate .Values.keys.azure.key) -}}{{- fail "keys.azure: set certificate or key" -}}{{- end -}}
{{- if and .Values.keys.azure.certificate .Values.keys.azure.key -}}{{- fail "keys.azure: set certificate or key, not both" -}}{{- end -}}
{{- if not .Values.keys.azure.clientId -}}{{- fail "keys.azure.clientId (the workload identity's client id) is required with keys.source=azure" -}}{{- end -}}
{{- end -}}
{{- if and (eq $source "file") (not .Values.keys.file.secretName) -}}
{{- fail "keys.file.secretName is required with keys.source=file" -}}
{{- end -}}
{{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) -}}
{{- fail "httpRoute.parentRefs is required when httpRoute.enabled" -}}
{{- end -}}
{{- if and .Values.tests.client.id (not .Values.tests.client.secretName) -}}
{{- fail "tests.client.secretName is required with tests.client.id" -}}
{{- end -}}
{{- end -}}

{{/* signing.source for sigil.yaml, from `keys`. */}}
{{- define "sigil.keySource" -}}
{{- $keys := .Values.keys -}}
{{- if eq $keys.source "kubernetes" -}}
{{- dict "kind" "kubernetes" "namespace" .Release.Namespace "secrets" (list (include "sigil.keys.secretName" .)) | toYaml -}}
{{- else if eq $keys.source "azure" -}}
{{- $source := dict "kind" "azure" "vault_url" $keys.azure.vaultUrl "credential" (dict "type" "workload_identity") -}}
{{- if $keys.azure.certificate }}{{ $_ := set $source "certificate" $keys.azure.certificate }}{{ end -}}
{{- if $keys.azure.key }}{{ $_ := set $source "key" $keys.azure.key }}{{ end -}}
{{- if $keys.azure.alg }}{{ $_ := set $source "alg" $keys.azure.alg }}{{ end -}}
{{- if $keys.azure.sessionSecret }}{{ $_ := set $source "session_secret" $keys.azure.sessionSecret }}{{ end -}}
{{- $source | toYaml -}}
{{- else -}}
{{- dict "kind" "file" "path" "/etc/sigil/keys" | toYaml -}}
{{- end -}}
{{- end -}}

{{/* The whole sigil.yaml rendered from values. */}}
{{- define "sigil.configYaml" -}}
{{- $user := deepCopy .Values.config.sigil -}}
{{- $server := mustMergeOverwrite (default (dict) $user.server) (dict
  "issuer" (include "sigil.issuer" .)
  "listen" (printf "0.0.0.0:%d" (int .Values.ports.http))
  "ops_listen" (printf "0.0.0.0:%d" (int .Values.ports.ops))
  "shutdown" (dict "drain" (printf "%ds" (int .Values.shutdown.drainSeconds)) "timeout" (printf "%ds" (int .Values.shutdown.timeoutSeconds)))) -}}
{{- $signing := mustMergeOverwrite (default (dict) $user.signing) (dict "source" (include "sigil.keySource" . | fromYaml)) -}}
{{- $store := mustMergeOverwrite (default (dict) $user.store) (dict "endpoints" (splitList "," (include "sigil.store.endpoints" .))) -}}
{{- $config := dict "server" $server "signing" $signing "store" $store -}}
{{- range $key := list "api_scopes" "api_resources" "identity_scopes" "clients" "users" -}}
{{- with get $user $key }}{{ $_ := set $config $key . }}{{ end -}}
{{- end -}}
{{- with $user.sessions }}{{ $_ := set $config "sessions" . }}{{ end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Name of the object that holds sigil.yaml. */}}
{{- define "sigil.configName" -}}
{{- coalesce .Values.config.existingConfigMap .Values.config.existingSecret (printf "%s-config" (include "sigil.fullname" .)) -}}
{{- end -}}

{{/* The volume holding sigil.yaml. `name` overrides the rendered ConfigMap's name (hooks). */}}
{{- define "sigil.configVolume" -}}
- name: config
{{- if .root.Values.config.existingSecret }}
  secret:
    secretName: {{ .root.Values.config.existingSecret }}
    items: [{ key: {{ .root.Values.config.key | quote }}, path: sigil.yaml }]
{{- else if .root.Values.config.existingConfigMap }}
  configMap:
    name: {{ .root.Values.config.existingConfigMap }}
    items: [{ key: {{ .root.Values.config.key | quote }}, path: sigil.yaml }]
{{- else }}
  configMap:
    name: {{ default (printf "%s-config" (include "sigil.fullname" .root)) .name }}
{{- end }}
{{- with .root.Values.secrets.existingSecret }}
- name: secrets
  secret:
    secretName: {{ . }}
{{- end }}
{{- if eq .root.Values.keys.source "file" }}
- name: keys
  secret:
    secretName: {{ .root.Values.keys.file.secretName }}
{{- end }}
{{- end -}}

{{- define "sigil.configMounts" -}}
- name: config
  mountPath: /etc/sigil/sigil.yaml
  subPath: sigil.yaml
  readOnly: true
{{- if .Values.secrets.existingSecret }}
- name: secrets
  mountPath: /etc/sigil/secrets
  readOnly: true
{{- end }}
{{- if eq .Values.keys.source "file" }}
- name: keys
  mountPath: /etc/sigil/keys
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pod-level labels for Azure workload identity. */}}
{{- define "sigil.workloadIdentityLabels" -}}
{{- if eq .Values.keys.source "azure" }}
azure.workload.identity/use: "true"
{{- end }}
{{- end -}}
