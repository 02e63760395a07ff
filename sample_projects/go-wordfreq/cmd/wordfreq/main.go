// Command wordfreq prints the ten most frequent words read from stdin.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/acme/wordfreq/wordfreq"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wordfreq:", err)
		os.Exit(1)
	}
	for _, e := range wordfreq.Top(string(data), 10) {
		fmt.Printf("%7d %s\n", e.Count, e.Word)
	}
}
