package properties_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/resdll/resdll/properties"
)

// recordingStore counts the Updates that reach the store and the values
// each Put writes.
type recordingStore struct {
	properties.Store
	puts []properties.Values
}

func (s *recordingStore) Update(ctx context.Context, fn func(properties.Tx) error) error {
	return s.Store.Update(ctx, func(tx properties.Tx) error { return fn(&recordingTx{Tx: tx, s: s}) })
}

type recordingTx struct {
	properties.Tx
	s *recordingStore
}

func (t *recordingTx) Put(r string, ns properties.Namespace, v properties.Values) error {
	if ns == properties.Parameters {
		t.s.puts = append(t.s.puts, v.Clone())
	}
	return t.Tx.Put(r, ns, v)
}

// FuzzDecodeValidate feeds arbitrary JSON to the set handler (decode, then
// validate, then store) and to the typed decoder (R59). Nothing panics;
// input that is refused never reaches the store; input that is accepted
// is stored as values that pass the schema's checks and survive a JSON
// round trip. The seeds run with the normal tests.
func FuzzDecodeValidate(f *testing.F) {
	for _, seed := range []string{
		`{"VirtualServer":"SMTP-1","Port":587}`,
		`{"VirtualServer":"SMTP-1","Port":0}`,
		`{"VirtualServer":"S","Timeout":"1h","Protocols":["smtp","imap"],"Mode":"active","Instance":-5,"MaxMessage":"18446744073709551615"}`,
		`{"virtualserver":"S","PORT":"65535","Verbose":true}`,
		`{"VirtualServer":"S","Certificate":"3q0="}`,
		`{"VirtualServer":"S","Port":1,"port":2}`,
		`{"VirtualServer":"S\u0000"}`,
		`{"VirtualServer":"S","Hostname":"a b"}`,
		`{"VirtualServer":"S","Timeout":"-1s"}`,
		`{"VirtualServer":"S","Instance":9223372036854775807}`,
		`{"VirtualServer":"S","Instance":1e3}`,
		`{"Nope":{"deep":[[[[]]]]}}`,
		`{"A":{"int64":9223372036854775807},"B":{"uint64":18446744073709551615},"C":{"duration":"-2562047h47m16.854775808s"},"D":{"binary":"AA=="}}`,
		`{"A":{"multi-string":[]},"B":{"bool":false},"C":{"uint32":4294967295},"D":{"string":""}}`,
		`[]`, `null`, ``, `{`, `{"":1}`, `{"VirtualServer":"S"} {}`,
	} {
		f.Add([]byte(seed))
	}
	schema := testSchema()
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		store := &recordingStore{Store: properties.NewMemStore()}
		defer func() { _ = store.Close() }()
		m, err := properties.NewManager(properties.Options{Store: store, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.HandleValidate(ctx, "R", data); err == nil {
			// Accepted by validate: set must accept it too.
			if _, err := m.HandleSet(ctx, "R", data, nil); err != nil {
				t.Fatalf("validate accepted %q but set refused it: %v", data, err)
			}
		} else {
			if !errors.Is(err, properties.ErrInvalid) {
				t.Fatalf("refusal of %q does not wrap ErrInvalid: %v", data, err)
			}
			if _, err := m.HandleSet(ctx, "R", data, nil); err == nil {
				t.Fatalf("validate refused %q but set accepted it", data)
			}
			if len(store.puts) != 0 {
				t.Fatalf("refused input %q reached the store: %v", data, store.puts)
			}
		}
		for _, put := range store.puts {
			if err := schema.ValidateValues(put); err != nil {
				t.Fatalf("stored values fail the schema: %v", err)
			}
		}

		var v properties.Values
		if err := json.Unmarshal(data, &v); err != nil {
			if !errors.Is(err, properties.ErrInvalid) && json.Valid(data) {
				t.Fatalf("typed refusal of %q does not wrap ErrInvalid: %v", data, err)
			}
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			return // text that JSON cannot carry exactly is refused, not mangled
		}
		var back properties.Values
		if err := json.Unmarshal(out, &back); err != nil || !back.Equal(v) {
			t.Fatalf("typed round trip of %q: %s, %v", data, out, err)
		}
	})
}
