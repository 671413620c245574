package config

import (
	"errors"
	"time"
)

// Ready rules (--app-ready).
const (
	ReadyListen  = "listen"
	ReadyProcess = "process"
	ReadyURL     = "url"
)

// unsetDuration marks a duration flag whose default is derived from
// another flag in finish.
const unsetDuration time.Duration = -1

// parseReadyRule takes --app-ready; "" leaves the choice to finishReady.
func parseReadyRule(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	return parseChoice(v, ReadyListen, ReadyProcess, ReadyURL)
}

// parseOptionalDuration is parseDuration, with "" meaning "derived from
// another flag" (unsetDuration).
func parseOptionalDuration(v string) (time.Duration, error) {
	if v == "" {
		return unsetDuration, nil
	}
	return parseDuration(v, false)
}

// finishReady settles --app-ready and --startup-timeout against
// --app-ready-url and --hold-window.
func (p *parser) finishReady() error {
	c := p.c
	switch {
	case c.AppReady == "" && c.AppReadyURL != "":
		c.AppReady = ReadyURL
	case c.AppReady == "":
		c.AppReady = ReadyListen
	case c.AppReady == ReadyURL && c.AppReadyURL == "":
		return p.invalid("app-ready", "url needs --app-ready-url")
	case c.AppReady != ReadyURL && c.AppReadyURL != "":
		return p.invalid("app-ready", "--app-ready-url is set, so ready follows it: use url or leave --app-ready out")
	}
	if c.StartupTimeout == unsetDuration {
		c.StartupTimeout = c.HoldWindow
	}
	if c.StartupTimeout < 0 {
		return errors.New("internal error: negative --startup-timeout")
	}
	return nil
}
