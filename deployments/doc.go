// Package deployments holds what a platform team needs to run cashless-auth: the container
// image (Dockerfile), the Helm chart (helm/cashless-auth) and one values file per
// white-label tenant (tenants/). Its tests check them against the service itself: the
// Dockerfile's build stamps and the chart's module switches statically, and the tenants'
// rendered config.yaml through cashless-auth's own config loader (scripts/chart.sh check).
package deployments
