module github.com/holdfast-dev/holdfast/bench

go 1.26.8
