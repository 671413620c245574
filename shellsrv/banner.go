package shellsrv

import (
	"fmt"
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/internal/exitdesc"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// The banner is printed at the start of interactive (shell) sessions only,
// like sshd's motd. Not the pre-auth SSH_MSG_USERAUTH_BANNER: that would show
// the app's state to anyone who can connect, and OpenSSH hides it at
// LogLevel quiet and prints it for exec sessions too. Exec and sftp sessions
// get nothing, so their stdout stays the command's own.

// bannerText renders the app's state for a person who just logged in.
func bannerText(snap state.Snapshot, now time.Time) string {
	var b strings.Builder
	phase := string(snap.Phase)
	if phase == "" {
		phase = "unknown"
	}
	fmt.Fprintf(&b, "holdfast: app is %s", strings.ToUpper(phase))
	if snap.HoldReason != nil && *snap.HoldReason != "" {
		fmt.Fprintf(&b, " (%s)", *snap.HoldReason)
	}
	if snap.HeldSince != nil {
		fmt.Fprintf(&b, " since %s (%s ago)", snap.HeldSince.UTC().Format(time.RFC3339), now.Sub(*snap.HeldSince).Round(time.Second))
	}
	if snap.PID != 0 {
		fmt.Fprintf(&b, ", pid %d", snap.PID)
	}
	if snap.Run != 0 {
		fmt.Fprintf(&b, ", run %d", snap.Run)
	}
	b.WriteString("\n")
	why := snap.Why()
	if why != "" {
		// The current run ended: its cause is the first thing to read.
		fmt.Fprintf(&b, "  why:        %s\n", why)
	}
	if e := snap.LastExit; e != nil {
		fmt.Fprintf(&b, "  last exit:  %s after %.1fs, run %d", exitdesc.Text(e.Code, e.Signal, e.CoreDumped), e.RanForSeconds, e.Run)
		if !e.At.IsZero() {
			fmt.Fprintf(&b, ", at %s", e.At.UTC().Format(time.RFC3339))
		}
		b.WriteString("\n")
		if why == "" && e.Cause != nil {
			// An earlier run's cause: the app has started again since.
			fmt.Fprintf(&b, "  why:        %s\n", e.Cause.Summary)
		}
	} else {
		b.WriteString("  last exit:  none yet\n")
	}
	if snap.EvidenceDir != nil && *snap.EvidenceDir != "" {
		fmt.Fprintf(&b, "  evidence:   %s\n", *snap.EvidenceDir)
	}
	if e := snap.LastExit; e != nil && e.Cause != nil && e.Cause.Line > 0 {
		b.WriteString("  next:       holdfast logs --why | holdfast status | holdfast restart | holdfast release\n")
	} else {
		b.WriteString("  next:       holdfast status | holdfast logs | holdfast restart | holdfast release\n")
	}
	b.WriteString("              holdfast bundle > crash.tgz   (all the evidence in one file; ssh HOST holdfast bundle > crash.tgz from outside)\n")
	return b.String()
}

// crlf turns LF into CRLF for text we write straight to a pty session's
// channel: it bypasses the pty, so the terminal's ONLCR does not apply.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
