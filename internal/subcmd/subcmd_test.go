package subcmd

import (
	"slices"
	"strings"
	"testing"
)

// The actions are exactly the four the control socket takes
// (docs/contract.md "HTTP"); no other row, and no unknown word, is one.
func TestIsAction(t *testing.T) {
	var actions []string
	for _, c := range All {
		if IsAction(c.Name) {
			actions = append(actions, c.Name)
		}
	}
	if want := []string{"restart", "release", "stop", "hold"}; !slices.Equal(actions, want) {
		t.Errorf("actions %q, want %q", actions, want)
	}
	for _, w := range []string{"", "Hold", "holds", "status", "probe", "help"} {
		if IsAction(w) {
			t.Errorf("IsAction(%q) = true", w)
		}
	}
}

// Every row is whole: a name, a synopsis that starts with it, a summary;
// an action is a client row with a success text, and no other row has one.
func TestRows(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range All {
		if c.Name == "" || seen[c.Name] || c.Summary == "" || !strings.HasPrefix(c.Synopsis+" ", "holdfast "+c.Name+" ") {
			t.Errorf("row %+v: empty, repeated, or its synopsis does not start with its name", c)
		}
		seen[c.Name] = true
		if c.Action != (c.Done != "") || c.Action && !c.Client {
			t.Errorf("row %s: Action %v, Client %v, Done %q", c.Name, c.Action, c.Client, c.Done)
		}
		if got, ok := Lookup(c.Name); !ok || got.Name != c.Name {
			t.Errorf("Lookup(%q) = %v, %v", c.Name, got, ok)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error(`Lookup("nope") found a row`)
	}
}
