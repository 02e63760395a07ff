package shapes

import (
	"fmt"
	"sort"
	"strings"
)

// TotalArea sums the areas of every room.
func TotalArea(rooms []Shape) float64 {
	total := 0.0
	for _, r := range rooms {
		total += r.Area()
	}
	return total
}

// Largest returns the room with the biggest area, or nil for an empty plan.
func Largest(rooms []Shape) Shape {
	var best Shape
	for _, r := range rooms {
		if best == nil || r.Area() > best.Area() {
			best = r
		}
	}
	return best
}

// Report lists rooms from largest to smallest with their areas rounded to 0.01 m².
func Report(rooms []Shape) string {
	sorted := append([]Shape(nil), rooms...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Area() > sorted[j].Area() })
	var b strings.Builder
	for _, r := range sorted {
		fmt.Fprintf(&b, "%-20s %8.2f\n", r.Name(), r.Area())
	}
	fmt.Fprintf(&b, "%-20s %8.2f\n", "total", TotalArea(rooms))
	return b.String()
}
