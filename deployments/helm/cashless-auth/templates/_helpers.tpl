{{/* ---- names and labels ------------------------------------------------------------- */}}

{{- define "cashless-auth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cashless-auth.fullname" -}}
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

{{/* Name of the migration hook's resources (ConfigMap, ServiceAccount, Job). */}}
{{- define "cashless-auth.migrateName" -}}
{{- printf "%s-migrate" (include "cashless-auth.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{- define "cashless-auth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's identity, on every resource and pod. */}}
{{- define "cashless-auth.instanceLabels" -}}
app.kubernetes.io/name: {{ include "cashless-auth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The serving pods: what the Service, PDB and Deployment select. The component keeps the
migration Job's pod out of the Service and the PDB. */}}
{{- define "cashless-auth.selectorLabels" -}}
{{ include "cashless-auth.instanceLabels" . }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Metadata labels of every resource (the migration hook's add their own component). */}}
{{- define "cashless-auth.labels" -}}
helm.sh/chart: {{ include "cashless-auth.chart" . }}
{{ include "cashless-auth.instanceLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cashless-platform
{{- end -}}

{{- define "cashless-auth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cashless-auth.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cashless-auth.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* ---- configuration ------------------------------------------------------------------ */}}

{{/* cashless-auth.cfg KEY: the value of a dotted key of .Values.config, "" when absent. */}}
{{- define "cashless-auth.cfg" -}}
{{- $cur := .root.Values.config -}}
{{- range $p := splitList "." .key -}}
{{- if kindIs "map" $cur -}}{{- $cur = get $cur $p -}}{{- else -}}{{- $cur = "" -}}{{- end -}}
{{- end -}}
{{- if kindIs "invalid" $cur -}}{{- else -}}{{- $cur -}}{{- end -}}
{{- end -}}

{{/* cashless-auth.moduleCfg KEY OLD: a module's key, else its old top-level name, which the
     service reads (with a warning) until the next major version. */}}
{{- define "cashless-auth.moduleCfg" -}}
{{- include "cashless-auth.cfg" (dict "root" .root "key" .key) | default (include "cashless-auth.cfg" (dict "root" .root "key" .old)) -}}
{{- end -}}

{{- define "cashless-auth.configDir" -}}/etc/cashless-auth{{- end -}}
{{- define "cashless-auth.configPath" -}}/etc/cashless-auth/config.yaml{{- end -}}
{{- define "cashless-auth.firebaseDir" -}}/var/run/secrets/cashless-auth/firebase{{- end -}}
{{- define "cashless-auth.jwtKeysDir" -}}/var/run/secrets/cashless-auth/jwt-keys{{- end -}}

{{/* config.yaml: .Values.config plus the keys the chart owns. */}}
{{- define "cashless-auth.configYAML" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- $server := get $cfg "server" | default dict -}}
{{- $_ := set $server "addr" (printf ":%v" .Values.containerPort) -}}
{{- $_ := set $cfg "server" $server -}}
{{- if .Values.secrets.firebaseCredentials.secret -}}
{{- $modules := get $cfg "modules" | default dict -}}
{{- $fb := get $modules "firebase" | default dict -}}
{{- $_ := set $fb "credentials_file" (printf "%s/credentials.json" (include "cashless-auth.firebaseDir" .)) -}}
{{- $_ := set $modules "firebase" $fb -}}
{{- $_ := set $cfg "modules" $modules -}}
{{- end -}}
{{- if .Values.secrets.jwtKeys.secret -}}
{{- $jwt := get $cfg "jwt" | default dict -}}
{{- $_ := set $jwt "keys_dir" (include "cashless-auth.jwtKeysDir" .) -}}
{{- $_ := set $cfg "jwt" $jwt -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* ---- checks: fail at template time with a clear message ------------------------------- */}}

{{/* cashless-auth.secretName ENTRY: the entry's Secret, else secrets.existingSecret. */}}
{{- define "cashless-auth.secretName" -}}
{{- $e := index .root.Values.secrets .entry -}}
{{- if $e.key -}}{{- $e.secret | default .root.Values.secrets.existingSecret -}}{{- end -}}
{{- end -}}

{{- define "cashless-auth.validate" -}}
{{- $root := . -}}
{{- /* Secrets never inline: they come from Secrets through the environment. */ -}}
{{- range $key, $entry := dict "database.url" "databaseURL" "redis.url" "redisURL" "jwt.secret" "jwtSecret" "secrets.encryption_key" "encryptionKey" "modules.password_reset.mail.smtp.password" "smtpPassword" "modules.phone_otp.sms.webhook.secret" "smsWebhookSecret" "modules.phone_otp.sms.twilio.auth_token" "twilioAuthToken" "mail.smtp.password" "smtpPassword" "sms.webhook.secret" "smsWebhookSecret" "sms.twilio.auth_token" "twilioAuthToken" "bootstrap.admin_email" "bootstrapAdmin" "bootstrap.admin_password" "bootstrapAdmin" -}}
{{- if include "cashless-auth.cfg" (dict "root" $root "key" $key) -}}
{{- fail (printf "config.%s must not be set in values (it would land in a ConfigMap): put it in a Secret and name that Secret in secrets.%s" $key $entry) -}}
{{- end -}}
{{- end -}}
{{- /* The chart runs PostgreSQL + Redis only: the embedded default needs a writable data.dir and one replica. */ -}}
{{- range $entry, $what := dict "databaseURL" "the PostgreSQL URL (postgres://user:pass@host:5432/db?sslmode=require)" "redisURL" "the Redis URL (redis://, rediss://, redis+cluster://, redis+sentinel://)" "jwtSecret" "the JWT signing secret (at least 32 bytes, shared by every replica)" "encryptionKey" "the encryption key (base64 of 32 random bytes)" -}}
{{- $e := index $root.Values.secrets $entry -}}
{{- if not $e.key -}}
{{- fail (printf "secrets.%s.key must not be empty: the chart needs %s" $entry $what) -}}
{{- end -}}
{{- if not (include "cashless-auth.secretName" (dict "root" $root "entry" $entry)) -}}
{{- fail (printf "secrets.%s: no Secret named. Set secrets.existingSecret (or secrets.%s.secret) to an existing Secret whose key %q holds %s; this chart never runs the embedded SQLite/in-process default (read-only root filesystem, several replicas). See docs/operations.md" $entry $entry $e.key $what) -}}
{{- end -}}
{{- end -}}
{{- if include "cashless-auth.cfg" (dict "root" $root "key" "jwt.keys_dir") -}}
{{- fail "config.jwt.keys_dir is set by the chart: name the Secret holding the keyring in secrets.jwtKeys.secret" -}}
{{- end -}}
{{- if and $root.Values.secrets.jwtKeys.secret (not (include "cashless-auth.cfg" (dict "root" $root "key" "jwt.active_kid"))) -}}
{{- fail "secrets.jwtKeys names a keyring: set config.jwt.active_kid to the kid of its signing key (<kid>.pem)" -}}
{{- end -}}
{{- if and (include "cashless-auth.cfg" (dict "root" $root "key" "jwt.active_kid")) (not $root.Values.secrets.jwtKeys.secret) -}}
{{- fail "config.jwt.active_kid is set: name the Secret holding the keyring in secrets.jwtKeys.secret" -}}
{{- end -}}
{{- if and (eq (include "cashless-auth.moduleCfg" (dict "root" $root "key" "modules.password_reset.mail.provider" "old" "mail.provider")) "smtp") (include "cashless-auth.moduleCfg" (dict "root" $root "key" "modules.password_reset.mail.smtp.username" "old" "mail.smtp.username")) -}}
{{- if not (include "cashless-auth.secretName" (dict "root" $root "entry" "smtpPassword")) -}}
{{- fail "secrets.smtpPassword: modules.password_reset.mail.provider is smtp with a username: name the Secret holding the SMTP password (secrets.existingSecret or secrets.smtpPassword.secret)" -}}
{{- end -}}
{{- end -}}
{{- if eq (include "cashless-auth.moduleCfg" (dict "root" $root "key" "modules.phone_otp.sms.provider" "old" "sms.provider")) "twilio" -}}
{{- if not (include "cashless-auth.secretName" (dict "root" $root "entry" "twilioAuthToken")) -}}
{{- fail "secrets.twilioAuthToken: modules.phone_otp.sms.provider is twilio: name the Secret holding the Twilio auth token (secrets.existingSecret or secrets.twilioAuthToken.secret)" -}}
{{- end -}}
{{- end -}}
{{- /* Graceful shutdown: the kubelet must not SIGKILL before the drain is over. */ -}}
{{- $d := include "cashless-auth.cfg" (dict "root" $root "key" "server.shutdown_timeout") | default "15s" -}}
{{- if regexMatch "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$" $d -}}
{{- $h := regexFind "[0-9]+h" $d | trimSuffix "h" | default "0" | atoi -}}
{{- $m := regexFind "[0-9]+m" $d | trimSuffix "m" | default "0" | atoi -}}
{{- $s := regexFind "[0-9]+s" $d | trimSuffix "s" | default "0" | atoi -}}
{{- $drain := add (mul $h 3600) (mul $m 60) $s (include "cashless-auth.preStopSleep" $root | default "0" | atoi) -}}
{{- if le (int $root.Values.terminationGracePeriodSeconds) (int $drain) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed server.shutdown_timeout (%s) plus the preStop sleep (%ss): raise it or shorten the drain" $root.Values.terminationGracePeriodSeconds $d (include "cashless-auth.preStopSleep" $root | default "0")) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) -}}
{{- fail "podDisruptionBudget: set only one of minAvailable and maxUnavailable (null the other)" -}}
{{- end -}}
{{- end -}}

{{/* Seconds of preStop sleep actually rendered ("" when none: disabled or Kubernetes < 1.30). */}}
{{- define "cashless-auth.preStopSleep" -}}
{{- if and (gt (int .Values.preStopSleepSeconds) 0) (semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version) -}}
{{- int .Values.preStopSleepSeconds -}}
{{- end -}}
{{- end -}}

{{/* ---- pod pieces shared by the Deployment and the migration Job ------------------------ */}}

{{- define "cashless-auth.secretEnvVar" -}}
{{- $name := include "cashless-auth.secretName" (dict "root" .root "entry" .entry) -}}
{{- if $name }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ $name | quote }}
      key: {{ (index .root.Values.secrets .entry).key | quote }}
{{- end -}}
{{- end -}}

{{- define "cashless-auth.env" -}}
{{- $root := . -}}
{{- include "cashless-auth.secretEnvVar" (dict "root" $root "entry" "databaseURL" "env" "CASHLESS_AUTH_DATABASE_URL") }}
{{- include "cashless-auth.secretEnvVar" (dict "root" $root "entry" "redisURL" "env" "CASHLESS_AUTH_REDIS_URL") }}
{{- include "cashless-auth.secretEnvVar" (dict "root" $root "entry" "jwtSecret" "env" "CASHLESS_AUTH_JWT_SECRET") }}
{{- include "cashless-auth.secretEnvVar" (dict "root" $root "entry" "encryptionKey" "env" "CASHLESS_AUTH_SECRETS_ENCRYPTION_KEY") }}
{{- if include "cashless-auth.cfg" (dict "root" $root "key" "jwt.keys_dir") -}}
{{- fail "config.jwt.keys_dir is set by the chart: name the Secret holding the keyring in secrets.jwtKeys.secret" -}}
{{- end -}}
{{- if and $root.Values.secrets.jwtKeys.secret (not (include "cashless-auth.cfg" (dict "root" $root "key" "jwt.active_kid"))) -}}
{{- fail "secrets.jwtKeys names a keyring: set config.jwt.active_kid to the kid of its signing key (<kid>.pem)" -}}
{{- end -}}
{{- if and (include "cashless-auth.cfg" (dict "root" $root "key" "jwt.active_kid")) (not $root.Values.secrets.jwtKeys.secret) -}}
{{- fail "config.jwt.active_kid is set: name the Secret holding the keyring in secrets.jwtKeys.secret" -}}
{{- end -}}
{{- if and (eq (include "cashless-auth.moduleCfg" (dict "root" $root "key" "modules.password_reset.mail.provider" "old" "mail.provider")) "smtp") (include "cashless-auth.moduleCfg" (dict "root" $root "key" "modules.password_reset.mail.smtp.username" "old" "mail.smtp.username")) }}
{{- include "cashless-auth.secretEnvVar" (dict "root" $root "entry" "smtpPassword" "env" "CASHLESS_AUTH_MODULES_PASSWORD_RESET_MAIL_SMTP_PASSWORD") }}
{{- end }}
{{- $sms := include "cashless-auth.moduleCfg" (dict "root" $root "key" "modules.phone_otp.sms.provider" "old" "sms.provider") }}
{{- if eq $sms "twilio" }}
{{- include "cashless-auth.secretEnvVar" (dict "root" $root "entry" "twilioAuthToken" "env" "CASHLESS_AUTH_MODULES_PHONE_OTP_SMS_TWILIO_AUTH_TOKEN") }}
{{- end }}
{{- if eq $sms "webhook" }}
{{- include "cashless-auth.secretEnvVar" (dict "root" $root "entry" "smsWebhookSecret" "env" "CASHLESS_AUTH_MODULES_PHONE_OTP_SMS_WEBHOOK_SECRET") }}
{{- end }}
{{- with .Values.secrets.bootstrapAdmin }}
{{- if .secret }}
- name: CASHLESS_AUTH_BOOTSTRAP_ADMIN_EMAIL
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .emailKey | quote }}
- name: CASHLESS_AUTH_BOOTSTRAP_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .passwordKey | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "cashless-auth.volumeMounts" -}}
- name: config
  mountPath: {{ include "cashless-auth.configDir" . }}
  readOnly: true
{{- if .Values.secrets.firebaseCredentials.secret }}
- name: firebase-credentials
  mountPath: {{ include "cashless-auth.firebaseDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.secrets.jwtKeys.secret }}
- name: jwt-keys
  mountPath: {{ include "cashless-auth.jwtKeysDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* cashless-auth.volumes (dict "root" $ "configMap" NAME) */}}
{{- define "cashless-auth.volumes" -}}
- name: config
  configMap:
    name: {{ .configMap }}
    items:
      - key: config.yaml
        path: config.yaml
{{- with .root.Values.secrets.firebaseCredentials }}
{{- if .secret }}
- name: firebase-credentials
  secret:
    secretName: {{ .secret | quote }}
    defaultMode: 0440
    items:
      - key: {{ .key | quote }}
        path: credentials.json
{{- end }}
{{- end }}
{{- with .root.Values.secrets.jwtKeys }}
{{- if .secret }}
- name: jwt-keys
  secret:
    secretName: {{ .secret | quote }}
    defaultMode: 0440
{{- end }}
{{- end }}
{{- end -}}
