package cause_test

import (
	"fmt"

	"github.com/holdfast-dev/holdfast/cause"
)

// The relay hands each chunk to the Extractor in the order it reaches
// output.log; at the run's end the exit facts complete the cause.
func ExampleExtractor() {
	e := cause.New()
	e.Write(cause.Stdout, []byte("2026-12-06T09:20:12.906Z ERROR 1 --- [main] o.s.b.d.LoggingFailureAnalysisReporter   : \n\n"))
	e.Write(cause.Stdout, []byte("***************************\nAPPLICATION FAILED TO START\n***************************\n\n"))
	e.Write(cause.Stdout, []byte("Description:\n\nFailed to configure a DataSource: 'url' attribute is not specified and no embedded datasource could be configured.\n\n"))
	e.Write(cause.Stdout, []byte("Action:\n\nConsider the following: ...\n\n"))
	c := e.Result(cause.Exit{Code: 1})
	fmt.Println(c.Kind, "line", c.Line)
	fmt.Println(c.Summary)
	// Output:
	// spring-failure-analysis line 4
	// Failed to configure a DataSource: 'url' attribute is not specified and no embedded datasource could be configured.
}
