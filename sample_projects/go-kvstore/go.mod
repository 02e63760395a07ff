module github.com/acme/kvstore

go 1.19
