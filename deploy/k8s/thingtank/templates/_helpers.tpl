{{/* Names, labels and the pieces every workload shares. */}}

{{- define "thingtank.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name; room is left for "-<service>-headless" (at most 16 more). */}}
{{- define "thingtank.fullname" -}}
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

{{- define "thingtank.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "thingtank.labels" -}}
helm.sh/chart: {{ include "thingtank.chart" . }}
app.kubernetes.io/name: {{ include "thingtank.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: thingtank
{{- end -}}

{{/* Selector labels of the whole release. */}}
{{- define "thingtank.releaseSelector" -}}
app.kubernetes.io/name: {{ include "thingtank.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one workload: (dict "root" $ "component" "queues"). */}}
{{- define "thingtank.selector" -}}
{{ include "thingtank.releaseSelector" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The label that admits a pod to the gateway when networkPolicy.allowExternal is false. */}}
{{- define "thingtank.clientLabel" -}}
{{ include "thingtank.fullname" . }}-client
{{- end -}}

{{- define "thingtank.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "thingtank.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "thingtank.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The stateful services, in the order the chart renders them. */}}
{{- define "thingtank.serviceNames" -}}
compute,objects,tables,streams,queues,wamp
{{- end -}}

{{/* The enabled ones, comma-separated ("" when none). */}}
{{- define "thingtank.enabledServices" -}}
{{- $out := list -}}
{{- range $name := splitList "," (include "thingtank.serviceNames" .) -}}
{{- if (index $.Values.services $name).enabled -}}
{{- $out = append $out $name -}}
{{- end -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/* The grpc.health.v1 name a service's probes ask for: its first proto service. */}}
{{- define "thingtank.healthService" -}}
{{- $names := dict
  "compute" "thingtank.compute.v1.ComputeService"
  "objects" "thingtank.objects.v1.ObjectsService"
  "tables" "thingtank.tables.v1.TablesService"
  "streams" "thingtank.streams.v1.StreamsService"
  "queues" "thingtank.queues.v1.QueuesService"
  "wamp" "thingtank.wamp.v1.WampService" -}}
{{- index $names . -}}
{{- end -}}

{{/* host:port of a service's ClusterIP Service: (dict "root" $ "name" "queues" "port" 50056). */}}
{{- define "thingtank.address" -}}
{{- printf "%s-%s.%s.svc.%s:%v" (include "thingtank.fullname" .root) .name .root.Release.Namespace .root.Values.clusterDomain .port -}}
{{- end -}}

{{/* The gateway's --backends: every enabled service's DNS name and port. */}}
{{- define "thingtank.backends" -}}
{{- $out := list -}}
{{- range $name := splitList "," (include "thingtank.enabledServices" .) -}}
{{- $addr := include "thingtank.address" (dict "root" $ "name" $name "port" (index $.Values.services $name).port) -}}
{{- $out = append $out (printf "%s=%s" $name $addr) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{- define "thingtank.apiKeysSecret" -}}
{{- default (printf "%s-api-keys" (include "thingtank.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* Flags every serve process gets. */}}
{{- define "thingtank.commonArgs" -}}
- --listen-address=0.0.0.0
- --metrics-port={{ .Values.ports.metrics }}
- --data-dir=/data
- --time-scale={{ .Values.serve.timeScale }}
- --log-level={{ .Values.serve.logLevel }}
- --default-deadline={{ .Values.serve.defaultDeadline }}
- --executor-threads={{ .Values.serve.executorThreads }}
{{- if .Values.serve.syncWrites }}
- --sync-writes
{{- end }}
{{- end -}}

{{/* The gateway's authentication flags (gateway and monolith). */}}
{{- define "thingtank.authArgs" -}}
{{- if .Values.auth.enabled }}
- --auth=apikey
- --api-keys-file=/etc/thingtank/api-keys/api-keys.txt
{{- else }}
- --auth=none
- --allow-insecure
{{- end }}
{{- end -}}

{{/* The WAMP flags (the wamp pod and the monolith). */}}
{{- define "thingtank.wampArgs" -}}
- --wamp-ws-port={{ .Values.services.wamp.webSocket.port }}
- --wamp-config=/etc/thingtank/wamp/wamp-config.json
{{- end -}}

{{- define "thingtank.wampConfigVolume" -}}
- name: wamp-config
{{- if .Values.services.wamp.existingConfigSecret }}
  secret:
    secretName: {{ .Values.services.wamp.existingConfigSecret }}
    items:
      - key: {{ .Values.services.wamp.existingConfigSecretKey }}
        path: wamp-config.json
{{- else }}
  configMap:
    name: {{ include "thingtank.fullname" . }}-wamp-config
{{- end }}
{{- end -}}

{{- define "thingtank.apiKeysVolume" -}}
- name: api-keys
  secret:
    secretName: {{ include "thingtank.apiKeysSecret" . }}
    defaultMode: 0440
    items:
      - key: api-keys.txt
        path: api-keys.txt
{{- end -}}

{{/* Environment of every serve container; with key=true, the key the services present
     to the gateway (THINGTANK_API_KEY_ID / _SECRET). */}}
{{- define "thingtank.env" -}}
{{- if and .key .root.Values.auth.enabled }}
- name: THINGTANK_API_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "thingtank.apiKeysSecret" .root }}
      key: service-key-id
- name: THINGTANK_API_KEY_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "thingtank.apiKeysSecret" .root }}
      key: service-key-secret
{{- end }}
{{- with .root.Values.serve.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod annotations: Prometheus' and what the user adds; (dict "root" $ "checksums" true). */}}
{{- define "thingtank.podAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .root.Values.ports.metrics | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- if and .root.Values.auth.enabled (not .root.Values.auth.existingSecret) }}
{{- /* The generated secrets never change once installed: the values say it all. */}}
checksum/api-keys: {{ toYaml .root.Values.auth | sha256sum }}
{{- end }}
{{- if and .wamp (not .root.Values.services.wamp.existingConfigSecret) }}
checksum/wamp-config: {{ include (print .root.Template.BasePath "/configmap-wamp.yaml") .root | sha256sum }}
{{- end }}
{{- with .root.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod-level fields every workload shares. */}}
{{- define "thingtank.podCommon" -}}
serviceAccountName: {{ include "thingtank.serviceAccountName" . }}
automountServiceAccountToken: false
{{- /* Kubernetes' service links would set THINGTANK_QUEUES_PORT=tcp://... for a Service
       named thingtank-queues: the environment form of --queues-port. */}}
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* topologySpreadConstraints for pods matching the given labels: (dict "root" $ "labels" dict). */}}
{{- define "thingtank.topologySpread" -}}
{{- if .root.Values.topologySpread.enabled }}
topologySpreadConstraints:
{{- range .root.Values.topologySpread.topologyKeys }}
  - maxSkew: {{ $.root.Values.topologySpread.maxSkew }}
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $.root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- toYaml $.labels | nindent 8 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A gRPC probe: (dict "root" $ "kind" "readiness" "port" 50056 "service" "name"). */}}
{{- define "thingtank.grpcProbe" -}}
{{- $p := index .root.Values.probes .kind -}}
grpc:
  port: {{ .port }}
  service: {{ .service | quote }}
periodSeconds: {{ $p.periodSeconds }}
timeoutSeconds: {{ $p.timeoutSeconds }}
failureThreshold: {{ $p.failureThreshold }}
{{- end -}}

{{/* The volume claim template or emptyDir volume for /data: (dict "root" $ "persistence" ...). */}}
{{- define "thingtank.volumeClaimTemplates" -}}
{{- if .persistence.enabled }}
volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        {{- include "thingtank.releaseSelector" .root | nindent 8 }}
      {{- with .persistence.annotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      accessModes:
        {{- toYaml .persistence.accessModes | nindent 8 }}
      {{- if .persistence.storageClass }}
      storageClassName: {{ if eq .persistence.storageClass "-" }}""{{ else }}{{ .persistence.storageClass }}{{ end }}
      {{- end }}
      resources:
        requests:
          storage: {{ .persistence.size }}
{{- end }}
{{- end -}}

{{/* NetworkPolicyPeers admitted to the gateway's gRPC port and the WAMP WebSocket, or
     nothing (any source) when allowExternal; (dict "root" $ "self" true) adds the
     release's own pods. */}}
{{- define "thingtank.clientPeers" -}}
{{- if not .root.Values.networkPolicy.allowExternal }}
from:
  - podSelector:
      matchLabels:
        {{ include "thingtank.clientLabel" .root }}: "true"
  {{- if .self }}
  - podSelector:
      matchLabels:
        {{- include "thingtank.releaseSelector" .root | nindent 8 }}
  {{- end }}
  {{- with .root.Values.networkPolicy.extraIngressFrom }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The metrics port's ingress rule: (dict "root" $ "self" true). */}}
{{- define "thingtank.metricsIngress" -}}
- ports:
    - port: {{ .root.Values.ports.metrics }}
      protocol: TCP
  {{- with .root.Values.networkPolicy.metricsFrom }}
  from:
    {{- toYaml . | nindent 4 }}
    {{- if $.self }}
    - podSelector:
        matchLabels:
          {{- include "thingtank.releaseSelector" $.root | nindent 10 }}
    {{- end }}
  {{- end }}
{{- end -}}

{{/* The generated API keys: a secret given in the values wins, then the one in the Secret of
     an earlier install (lookup; empty under helm template), then a new random one.
     YAML: adminSecret, serviceSecret, file (the --api-keys-file). */}}
{{- define "thingtank.apiKeys" -}}
{{- $old := lookup "v1" "Secret" .Release.Namespace (include "thingtank.apiKeysSecret" .) | default dict -}}
{{- $admin := .Values.auth.adminKey.secret | default (dig "data" "admin-key-secret" "" $old | b64dec) | default (randAlphaNum 40) -}}
{{- $service := .Values.auth.serviceKeySecret | default (dig "data" "service-key-secret" "" $old | b64dec) | default (randAlphaNum 40) -}}
{{- $lines := list
  "# <id> <secret> <services> [<rate/s> [<burst>]], written by the thingtank chart"
  (printf "%s %s * %v %v" .Values.auth.adminKey.id $admin .Values.auth.adminKey.rate .Values.auth.adminKey.burst)
  (printf "thingtank-services %s * 100000 200000" $service) -}}
{{- range .Values.auth.extraKeys -}}
{{- $line := printf "%s %s %s" .id .secret (join "," .services) -}}
{{- if hasKey . "rate" }}{{ $line = printf "%s %v" $line .rate }}{{ end -}}
{{- if and (hasKey . "rate") (hasKey . "burst") }}{{ $line = printf "%s %v" $line .burst }}{{ end -}}
{{- $lines = append $lines $line -}}
{{- end -}}
{{- toYaml (dict "adminSecret" $admin "serviceSecret" $service "file" (printf "%s\n" (join "\n" $lines))) -}}
{{- end -}}
