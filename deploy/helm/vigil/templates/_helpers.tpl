{{/* The name of every object: the release's, with "-vigil" unless it says vigil already. */}}
{{- define "vigil.fullname" -}}
{{- if contains "vigil" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-vigil" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vigil.labels" -}}
app.kubernetes.io/name: vigil
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one role: vigil.selector (dict "root" $ "role" "collector"). */}}
{{- define "vigil.selector" -}}
app.kubernetes.io/name: vigil
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "vigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vigil.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "vigil.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "vigil.configMapName" -}}
{{- default (printf "%s-config" (include "vigil.fullname" .)) .Values.existingConfigMap -}}
{{- end -}}

{{- define "vigil.storeSecretName" -}}
{{- default (printf "%s-store" (include "vigil.fullname" .)) .Values.store.existingSecret -}}
{{- end -}}

{{- define "vigil.hasStorePassword" -}}
{{- if or .Values.store.password .Values.store.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* The container of a role: vigil.container (dict "root" $ "role" "collector" "args" (list ...) "ports" (list ...) "resources" ...). */}}
{{- define "vigil.container" -}}
{{- $root := .root -}}
- name: {{ .role }}
  image: {{ include "vigil.image" $root }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args:
    - {{ .command }}
    - --data-dir=/var/lib/vigil
    - --config-dir=/etc/vigil/config
    - --web.listen-address=:8080
    {{- if include "vigil.hasStorePassword" $root }}
    - --store-password-file=/etc/vigil/store/{{ $root.Values.store.passwordKey }}
    {{- end }}
    {{- if $root.Values.publicMetrics }}
    - --web.public-metrics
    {{- end }}
    {{- range .args }}
    - {{ . }}
    {{- end }}
    {{- range $root.Values.extraArgs }}
    - {{ . }}
    {{- end }}
  env:
    {{- if ne $root.Values.mode "single" }}
    - name: VIGIL_STORE
      value: {{ required "store.url is required in fleet mode: a clickhouse:// URL" $root.Values.store.url | quote }}
    {{- end }}
    {{- with $root.Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - {name: http, containerPort: 8080, protocol: TCP}
    {{- range .ports }}
    - {{ toJson . }}
    {{- end }}
  livenessProbe:
    httpGet: {path: /healthz, port: http}
    periodSeconds: 10
    failureThreshold: 6
  readinessProbe:
    httpGet: {path: /readyz, port: http}
    periodSeconds: 5
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  volumeMounts:
    - {name: data, mountPath: /var/lib/vigil}
    - {name: config, mountPath: /etc/vigil/config, readOnly: true}
    - {name: tmp, mountPath: /tmp}
    {{- if include "vigil.hasStorePassword" $root }}
    - {name: store, mountPath: /etc/vigil/store, readOnly: true}
    {{- end }}
{{- end -}}

{{/* The pod-level fields every role shares but the data volume. */}}
{{- define "vigil.podSpec" -}}
serviceAccountName: {{ include "vigil.serviceAccountName" . }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
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

{{- define "vigil.volumes" -}}
- name: config
  configMap:
    name: {{ include "vigil.configMapName" . }}
- name: tmp
  emptyDir: {sizeLimit: 64Mi}
{{- if include "vigil.hasStorePassword" . }}
- name: store
  secret:
    secretName: {{ include "vigil.storeSecretName" . }}
    defaultMode: 0440
{{- end }}
{{- end -}}
