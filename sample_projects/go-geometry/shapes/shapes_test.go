package shapes

import (
	"math"
	"strings"
	"testing"
)

func approx(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestRect(t *testing.T) {
	r := Rect{W: 3, H: 4}
	approx(t, "Rect.Area", r.Area(), 12)
	approx(t, "Rect.Perimeter", r.Perimeter(), 14)
}

func TestCircle(t *testing.T) {
	c := Circle{R: 2}
	approx(t, "Circle.Area", c.Area(), 4*math.Pi)
	approx(t, "Circle.Perimeter", c.Perimeter(), 4*math.Pi)
	approx(t, "unit Circle.Area", Circle{R: 1}.Area(), math.Pi)
}

func TestTriangleHeron(t *testing.T) {
	approx(t, "Triangle.Area", Triangle{A: 3, B: 4, C: 5}.Area(), 6)
}

func TestLargestAndTotal(t *testing.T) {
	rooms := []Shape{Rect{W: 2, H: 2}, Circle{R: 3}, Triangle{A: 3, B: 4, C: 5}}
	if got := Largest(rooms); got != (Circle{R: 3}) {
		t.Fatalf("Largest = %v, want the circle", got)
	}
	approx(t, "TotalArea", TotalArea(rooms), 4+9*math.Pi+6)
	if Largest(nil) != nil {
		t.Fatal("Largest(nil) should be nil")
	}
}

func TestReport(t *testing.T) {
	out := Report([]Shape{Rect{W: 1, H: 2}, Circle{R: 1}})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "circle r=1") || !strings.HasSuffix(lines[2], "5.14") {
		t.Fatalf("unexpected report:\n%s", out)
	}
}
