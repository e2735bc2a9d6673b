package bboltstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/properties/bboltstore"
)

// BenchmarkSetProperty is one administrator's property set through the
// embedded store (R53, R57): a Manager validates one Uint32 property and
// commits it in a bbolt transaction, fsync included, with no resource to
// tell. µs/set is the latency of one set; sets/s its inverse.
func BenchmarkSetProperty(b *testing.B) {
	ctx := context.Background()
	s, err := bboltstore.Open(ctx, filepath.Join(b.TempDir(), "props.db"), bboltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	schema, err := properties.NewSchema(properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(25), Min: uint32(1), Max: uint32(65535)})
	if err != nil {
		b.Fatal(err)
	}
	m, err := properties.NewManager(properties.Options{Store: s, Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var v properties.Values
		if err := v.Set("Port", uint32(1+i%65535)); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Set(ctx, "SMTP-1", v, properties.SetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(per*1e6, "µs/set")
	b.ReportMetric(1/per, "sets/s")
}

// BenchmarkStorePut is the store alone: one Put of one value in its own
// transaction (fsync included), the floor under BenchmarkSetProperty.
func BenchmarkStorePut(b *testing.B) {
	ctx := context.Background()
	s, err := bboltstore.Open(ctx, filepath.Join(b.TempDir(), "props.db"), bboltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var v properties.Values
		if err := v.Set("Port", uint32(1+i%65535)); err != nil {
			b.Fatal(err)
		}
		if err := s.Update(ctx, func(tx properties.Tx) error { return tx.Put("SMTP-1", properties.Parameters, v) }); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e6, "µs/put")
}
