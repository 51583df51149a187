package evaluation_test

import (
	"errors"
	"testing"

	"github.com/gitward/gitward/evaluation"
)

var (
	first  = evaluation.Shared[int]{Name: "first"}
	second = evaluation.Shared[int]{Name: "second"}
)

func TestSharedValuesAreMadeOncePerEvaluationAndKeptApart(t *testing.T) {
	ev := &evaluation.Evaluation{}
	made := 0
	for range 3 {
		v, err := first.Get(ev, func() (int, error) { made++; return 1, nil })
		if err != nil || v != 1 {
			t.Fatalf("first = %d, %v", v, err)
		}
	}
	if made != 1 {
		t.Errorf("made %d times, want once", made)
	}
	// Another Shared of the same type is another value.
	if v, _ := second.Get(ev, func() (int, error) { return 2, nil }); v != 2 {
		t.Errorf("second = %d, want 2", v)
	}
	// Another evaluation makes its own.
	if v, _ := first.Get(&evaluation.Evaluation{}, func() (int, error) { return 3, nil }); v != 3 {
		t.Errorf("first in another evaluation = %d, want 3", v)
	}
}

func TestASharedErrorIsNotKept(t *testing.T) {
	ev := &evaluation.Evaluation{}
	if _, err := first.Get(ev, func() (int, error) { return 0, errors.New("forge down") }); err == nil || err.Error() != "first: forge down" {
		t.Fatalf("err = %v", err)
	}
	if v, err := first.Get(ev, func() (int, error) { return 5, nil }); err != nil || v != 5 {
		t.Errorf("after an error the value is made again; got %d, %v", v, err)
	}
}
