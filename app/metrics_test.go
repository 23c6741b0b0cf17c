package app_test

import (
	"net/http"
	"testing"

	"github.com/cronpulse/cronpulse/app"
	"github.com/cronpulse/cronpulse/models/modelstest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServiceMetrics: Service.Run wires the metrics into /ping, the ping
// writer and the store's flips: once a failing ping is answered, /metrics
// counts it, its batch and its flip.
func TestServiceMetrics(t *testing.T) {
	for _, db := range modelstest.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			cfg := app.TestConfig(db.URL)
			cfg.ListenAddr = freeAddr(t)
			cfg.BaseURL = "http://" + cfg.ListenAddr
			rs := startService(t, cfg, "")
			defer rs.stop()
			p := rs.call("POST", "/api/v1/projects", `{"name":"Acme"}`)
			j := rs.call("POST", "/api/v1/jobs", `{"projectId":"`+p["id"].(string)+`","name":"backup","heartbeat":true,"schedule":"@daily"}`)
			res, err := http.Get(j["pingUrl"].(string) + "/fail")
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)

			res, err = http.Get(rs.base + "/metrics")
			require.NoError(t, err)
			defer res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)
			parser := expfmt.NewTextParser(model.UTF8Validation)
			mfs, err := parser.TextToMetricFamilies(res.Body)
			require.NoError(t, err)
			assert.Equal(t, 1.0, counter(t, mfs["cronpulse_pings_received_total"], "kind", "fail"))
			assert.Equal(t, 1.0, counter(t, mfs["cronpulse_flips_total"], "to", "down"))
			require.Contains(t, mfs, "cronpulse_ping_batch_size")
			assert.Equal(t, uint64(1), mfs["cronpulse_ping_batch_size"].GetMetric()[0].GetHistogram().GetSampleCount())
		})
	}
}

// counter is the value of the counter of mf whose label is value.
func counter(t *testing.T, mf *dto.MetricFamily, label, value string) float64 {
	t.Helper()
	require.NotNil(t, mf)
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetCounter().GetValue()
			}
		}
	}
	require.Failf(t, "no such series", "%s{%s=%q}", mf.GetName(), label, value)
	return 0
}
