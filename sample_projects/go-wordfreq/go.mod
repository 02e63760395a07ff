module github.com/acme/wordfreq

go 1.19
