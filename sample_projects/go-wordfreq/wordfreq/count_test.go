package wordfreq

import (
	"reflect"
	"testing"
)

const sample = "The quick brown fox. The lazy dog! A fox, a dog, and THE fox?"

func TestCountSkipsStopWordsAndPunctuation(t *testing.T) {
	got := Count(sample)
	want := map[string]int{"quick": 1, "brown": 1, "fox": 3, "lazy": 1, "dog": 2}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Count() = %v, want %v", got, want)
	}
}

func TestTopOrdersByCountThenWord(t *testing.T) {
	got := Top(sample, 3)
	want := []Entry{{"fox", 3}, {"dog", 2}, {"brown", 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Top() = %v, want %v", got, want)
	}
}

func TestTopOfEmptyText(t *testing.T) {
	if got := Top("", 5); len(got) != 0 {
		t.Fatalf("Top(\"\") = %v, want empty", got)
	}
}
