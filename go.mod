module github.com/sunsetops/sunset

go 1.26.8
