// Package redact hides secrets in the app's command line before holdfast
// shows or stores it: in the status snapshot (/status, `holdfast status`,
// the ssh banner), in each run's run.json and in `holdfast runs`.
//
// A value is a secret when the name it is given to looks secret (Secret;
// the list of words is Words, and the README's "What is redacted" repeats
// it). Argv replaces such values with Marker:
//
//	--spring.datasource.password=hunter2    → --spring.datasource.password=***
//	-Djavax.net.ssl.keyStorePassword=s3cret → -Djavax.net.ssl.keyStorePassword=***
//	--password hunter2                      → --password ***
//	JAVA_TOOL_OPTIONS=-Dx.token=abc -Dy=1   → JAVA_TOOL_OPTIONS=-Dx.token=*** -Dy=1
//	{"password":"x"}, X-Api-Key: abc        → {"password":"***"}, X-Api-Key: ***
//	jdbc:postgresql://app:hunter2@db/shop   → jdbc:postgresql://app:***@db/shop
//
// When in doubt it redacts: a value is cut to the end of its argument, or
// of its word inside a longer argument, and a name that merely contains a
// secret word (-Dmonkey=1, --tokenizer=bert) loses its value too.
//
// The package is pure: it must not do I/O, and it must never be applied to
// the argv the app is executed with.
package redact
