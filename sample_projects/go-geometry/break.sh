#!/usr/bin/env bash
# Bug: Circle.Area uses the circumference formula (2*pi*r) instead of pi*r*r.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/func (c Circle) Area() float64      { return math\.Pi \* c\.R \* c\.R }/func (c Circle) Area() float64      { return 2 * math.Pi * c.R }/' shapes/shapes.go
