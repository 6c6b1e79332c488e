package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atlasx509/atlasx509/internal/keypool"
)

// KeyPoolStats is what the key pool metrics read; *keypool.Pool has it.
type KeyPoolStats interface {
	Stats() []keypool.TypeStats
}

// WatchKeyPool registers collectors that read src's Stats at every scrape:
//
//	atlasx509_key_pool_depth{key_type}                   keys ready
//	atlasx509_key_pool_target_depth{key_type}            what refill aims for
//	atlasx509_key_pool_hits_total{key_type}              keys handed out from the pool
//	atlasx509_key_pool_fallbacks_total{key_type}         keys generated inline, the pool being empty
//	atlasx509_key_pool_generated_total{key_type}         keys added to the pool (rate() is the refill rate)
//	atlasx509_key_pool_generate_errors_total{key_type}   failed background generations
//	atlasx509_key_pool_generate_seconds_total{key_type}  time spent refilling (about CPU seconds)
//	atlasx509_key_pool_refill_rate{key_type}             keys added per second, averaged over ~30 s
//
// It returns an error when called twice on the same Metrics, and does
// nothing on a nil *Metrics.
func (m *Metrics) WatchKeyPool(src KeyPoolStats) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(newPoolCollector(src))
}

type poolCollector struct {
	src                                       KeyPoolStats
	depth, target, hits, fallbacks, generated *prometheus.Desc
	errors, seconds, rate                     *prometheus.Desc
}

func newPoolCollector(src KeyPoolStats) *poolCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "key_pool", name), help, []string{"key_type"}, nil)
	}
	return &poolCollector{
		src:       src,
		depth:     desc("depth", "Leaf keys ready in the pool, by key type."),
		target:    desc("target_depth", "Depth the pool refills each key type to."),
		hits:      desc("hits_total", "Leaf keys handed out from the pool."),
		fallbacks: desc("fallbacks_total", "Leaf keys generated inline in a request because the pool was empty."),
		generated: desc("generated_total", "Leaf keys added to the pool; its rate is the refill rate."),
		errors:    desc("generate_errors_total", "Failed background key generations."),
		seconds:   desc("generate_seconds_total", "Time the refill workers spent generating keys."),
		rate:      desc("refill_rate", "Leaf keys added to the pool per second, averaged exponentially over about 30 s."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.depth, c.target, c.hits, c.fallbacks, c.generated, c.errors, c.seconds, c.rate} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src.Stats() {
		kt := string(s.Type)
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Depth), kt)
		ch <- prometheus.MustNewConstMetric(c.target, prometheus.GaugeValue, float64(s.Target), kt)
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits), kt)
		ch <- prometheus.MustNewConstMetric(c.fallbacks, prometheus.CounterValue, float64(s.Misses), kt)
		ch <- prometheus.MustNewConstMetric(c.generated, prometheus.CounterValue, float64(s.Generated), kt)
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(s.Errors), kt)
		ch <- prometheus.MustNewConstMetric(c.seconds, prometheus.CounterValue, s.GenerateSeconds, kt)
		ch <- prometheus.MustNewConstMetric(c.rate, prometheus.GaugeValue, s.RefillRate, kt)
	}
}
