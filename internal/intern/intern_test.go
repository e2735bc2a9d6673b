package intern

import (
	"sync"
	"testing"
)

type pol struct {
	A, B int
	S    string
}

func TestSharesEqualValues(t *testing.T) {
	var c Cache[pol]
	a, b := c.Get(pol{1, 2, "x"}), c.Get(pol{1, 2, "x"})
	if a != b {
		t.Fatal("equal values got two copies")
	}
	if d := c.Get(pol{1, 3, "x"}); d == a || *d != (pol{1, 3, "x"}) {
		t.Fatalf("a different value shared or changed: %+v", *d)
	}
}

func TestBounded(t *testing.T) {
	c := Cache[int]{Max: 2}
	c.Get(1)
	c.Get(2)
	p, q := c.Get(3), c.Get(3)
	if p == q || *p != 3 || *q != 3 {
		t.Fatal("past Max, each value must get its own copy with the value")
	}
	if len(c.m) != 2 {
		t.Fatalf("the cache grew to %d past its Max 2", len(c.m))
	}
	if a, b := c.Get(1), c.Get(1); a != b {
		t.Fatal("values kept before the bound are still shared")
	}
}

func TestConcurrent(t *testing.T) {
	var c Cache[int]
	var wg sync.WaitGroup
	got := make([]*int, 16)
	for i := range got {
		wg.Go(func() { got[i] = c.Get(7) })
	}
	wg.Wait()
	for _, p := range got {
		if p != got[0] {
			t.Fatal("concurrent Gets of one value got different copies")
		}
	}
}
