// Command geometry prints the area report of a sample floor plan.
package main

import (
	"fmt"

	"example.com/geometry/shapes"
)

func main() {
	plan := []shapes.Shape{
		shapes.Rect{W: 4, H: 3.5},
		shapes.Rect{W: 2.5, H: 2},
		shapes.Circle{R: 1.2},
	}
	fmt.Print(shapes.Report(plan))
}
