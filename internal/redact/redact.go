package redact

import (
	"strings"
)

// Marker replaces every hidden value.
const Marker = "***"

// How a Word is matched against one part of a name.
type Match int

const (
	Contains Match = iota // the part contains the word: dbpassword, passwords
	Suffix                // the part is the word or ends with it: key, apikey, storepass
	Prefix                // the part is the word or starts with it: auth, authorization
)

// Word is one entry of the list of secret-looking name parts.
type Word struct {
	Word  string
	Match Match
}

// Words is the one list of what makes a name secret. A name is cut into
// parts at every character other than a letter or digit and where a lower
// case letter is followed by an upper case one (keyStorePassword: key,
// store, password); each part is lower-cased and loses trailing digits.
// The name is secret when one part matches one word.
var Words = []Word{
	{"password", Contains},
	{"passwd", Contains},
	{"passphrase", Contains},
	{"pwd", Contains},
	{"secret", Contains},
	{"token", Contains},
	{"credential", Contains},
	{"private", Contains},
	{"cookie", Contains},
	{"pass", Suffix}, // keytool's -storepass and -keypass, --db-pass
	{"key", Suffix},  // -Dapi.key, apiKey, apikey, accesskey; not keyboard or keyspace
	{"keys", Suffix},
	{"auth", Prefix}, // auth, authorization, authToken; not oauth2
}

// Secret reports whether name looks like the name of a secret. Leading
// dashes are ignored, and so is the D of a -D system property.
func Secret(name string) bool {
	name = strings.TrimPrefix(name, "-D")
	name = strings.TrimLeft(name, "-")
	for _, part := range parts(name) {
		for _, w := range Words {
			if w.matches(part) {
				return true
			}
		}
	}
	return false
}

func (w Word) matches(part string) bool {
	switch w.Match {
	case Suffix:
		return strings.HasSuffix(part, w.Word)
	case Prefix:
		return strings.HasPrefix(part, w.Word)
	default:
		return strings.Contains(part, w.Word)
	}
}

// parts cuts name as Words describes.
func parts(name string) []string {
	var out []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			p := strings.TrimRight(strings.ToLower(name[start:end]), "0123456789")
			if p != "" {
				out = append(out, p)
			}
		}
		start = -1
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case !isAlnum(c):
			flush(i)
		case start >= 0 && isUpper(c) && isLower(name[i-1]):
			flush(i)
			start = i
		case start < 0:
			start = i
		}
	}
	flush(len(name))
	return out
}

// Argv returns a copy of argv with the values of secret-named arguments
// replaced by Marker. The forms it knows:
//
//   - name=value and name:value, anywhere in an argument (after -D, inside
//     JAVA_TOOL_OPTIONS=…, inside a `sh -c` script, as a JSON key); a value
//     runs to the end of its argument when the name starts the argument
//     (quotes included: argv is not shell-quoted), else to its closing
//     quote when it is quoted, to the end of the argument after "name: " (a
//     header), and to the next blank otherwise;
//   - a flag with a secret name and no value (--password hunter2): the next
//     word, in the same argument or the next one;
//   - the password of a URL's user info (scheme://user:password@host).
func Argv(argv []string) []string {
	if argv == nil {
		return nil
	}
	out := make([]string, len(argv))
	pending := false
	for i, a := range argv {
		if pending {
			// The value of a flag that ended the previous argument: all
			// of it, blanks included.
			out[i], pending = Marker, false
			continue
		}
		out[i], pending = arg(a)
	}
	return out
}

// arg redacts one argument and reports whether it ends with a flag whose
// value is the next argument.
func arg(s string) (string, bool) {
	var b strings.Builder
	copied := 0
	hide := func(from, to int) {
		b.WriteString(s[copied:from])
		b.WriteString(Marker)
		copied = to
	}
	pending := false
	for j := 0; j < len(s); {
		if isSpace(s[j]) {
			j++
			continue
		}
		if j == 0 || isSpace(s[j-1]) { // a word starts here
			if pending {
				end := wordEnd(s, j)
				hide(j, end)
				pending, j = false, end
				continue
			}
			if w := s[j:nextSpace(s, j)]; bareSecretFlag(w) {
				pending, j = true, j+len(w)
				continue
			}
		}
		switch c := s[j]; {
		case c == ':' && strings.HasPrefix(s[j:], "://"):
			if from, to, ok := userPassword(s, j+3); ok {
				hide(from, to)
				j = to
				continue
			}
			j += 3
		case c == '=' || c == ':':
			nameStart, ok := secretNameBefore(s, j)
			if !ok {
				j++
				continue
			}
			from, to := valueAt(s, j, nameStart == 0)
			hide(from, to)
			j = to
		default:
			j++
		}
	}
	if copied == 0 {
		return s, pending
	}
	b.WriteString(s[copied:])
	return b.String(), pending
}

// secretNameBefore finds the name that ends right before the separator at
// sep (skipping one closing quote: "password":) and reports where it
// starts and whether it is secret.
func secretNameBefore(s string, sep int) (int, bool) {
	end := sep
	if end > 0 && isQuote(s[end-1]) {
		end--
	}
	start := end
	for start > 0 && isNameChar(s[start-1]) {
		start--
	}
	if start == end || !Secret(s[start:end]) {
		return 0, false
	}
	if start > 0 && isQuote(s[start-1]) {
		start--
	}
	return start, true
}

// valueAt is the span to hide after the separator at sep. A quoted value
// keeps its quotes.
func valueAt(s string, sep int, wholeArg bool) (int, int) {
	from := sep + 1
	header := false
	if s[sep] == ':' {
		for from < len(s) && isSpace(s[from]) {
			from++
			header = true
		}
	}
	switch {
	case wholeArg:
		// argv is not shell-quoted: quotes here are part of the value.
		return from, len(s)
	case from < len(s) && isQuote(s[from]):
		if k := strings.IndexByte(s[from+1:], s[from]); k >= 0 {
			return from + 1, from + 1 + k
		}
		return from + 1, len(s)
	case header:
		return from, len(s)
	default:
		return from, nextSpace(s, from)
	}
}

// wordEnd is the end of the word at i as a shell reads it: quoted parts
// and what follows them up to the next blank outside quotes ("a b"c is
// one word); to the end of s when a quote is not closed.
func wordEnd(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) {
		if isQuote(s[i]) {
			k := strings.IndexByte(s[i+1:], s[i])
			if k < 0 {
				return len(s)
			}
			i += k + 2
			continue
		}
		i++
	}
	return i
}

// userPassword finds the password in the user info that starts at i, just
// after "://": user:password@host.
func userPassword(s string, i int) (int, int, bool) {
	end := i
	for end < len(s) && !isSpace(s[end]) && !strings.ContainsRune("/?#@", rune(s[end])) {
		end++
	}
	if end == len(s) || s[end] != '@' {
		return 0, 0, false
	}
	colon := strings.IndexByte(s[i:end], ':')
	if colon < 0 {
		return 0, 0, false
	}
	return i + colon + 1, end, true
}

// bareSecretFlag reports whether w is a flag with a secret name and no
// value of its own (--password), so the next word is its value.
func bareSecretFlag(w string) bool {
	if len(w) < 2 || w[0] != '-' {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isNameChar(w[i]) {
			return false
		}
	}
	return Secret(w)
}

// nextSpace is the index of the first blank at or after i, or len(s).
func nextSpace(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
func isQuote(c byte) bool { return c == '"' || c == '\'' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlnum(c byte) bool { return isUpper(c) || isLower(c) || '0' <= c && c <= '9' }

// isNameChar is a character of a name: letters, digits and the separators
// of property and flag names (spring.datasource.password, DB_PASSWORD,
// api-key, app.keys[0]).
func isNameChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '-' || c == '[' || c == ']'
}
