package redact

import (
	"slices"
	"strings"
	"testing"
)

func TestArgv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in, want []string
	}{
		{"spring property", []string{"java", "-jar", "app.jar", "--spring.datasource.password=hunter2"},
			[]string{"java", "-jar", "app.jar", "--spring.datasource.password=***"}},
		{"system property, camel case", []string{"java", "-Djavax.net.ssl.keyStorePassword=s3cret", "-jar", "a.jar"},
			[]string{"java", "-Djavax.net.ssl.keyStorePassword=***", "-jar", "a.jar"}},
		{"-D token", []string{"-Dx.token=abc"}, []string{"-Dx.token=***"}},
		{"-D auth", []string{"-Dauth.user=bob"}, []string{"-Dauth.user=***"}},
		{"value with blanks", []string{"--password=correct horse battery"}, []string{"--password=***"}},
		{"value with equals", []string{"--secret=a=b=c"}, []string{"--secret=***"}},
		{"empty value", []string{"--password="}, []string{"--password=***"}},
		{"next argument", []string{"app", "--password", "hunter2", "--port", "8080"},
			[]string{"app", "--password", "***", "--port", "8080"}},
		{"next argument with blanks", []string{"app", "--password", "a b", "x"},
			[]string{"app", "--password", "***", "x"}},
		{"next argument is a flag", []string{"app", "--password", "-x7"}, []string{"app", "--password", "***"}},
		{"flag at the end", []string{"app", "--password"}, []string{"app", "--password"}},
		{"apikey forms", []string{"--apikey=1", "--api-key=2", "--api_key=3", "--apiKey=4", "--APIKey=5", "-Dapi.key=6", "--keys=7"},
			[]string{"--apikey=***", "--api-key=***", "--api_key=***", "--apiKey=***", "--APIKey=***", "-Dapi.key=***", "--keys=***"}},
		{"env style", []string{"env", "DB_PASSWORD=x", "PGPASSWORD=y", "AWS_SECRET_ACCESS_KEY=z", "HOME=/root"},
			[]string{"env", "DB_PASSWORD=***", "PGPASSWORD=***", "AWS_SECRET_ACCESS_KEY=***", "HOME=/root"}},
		{"JAVA_TOOL_OPTIONS", []string{"env", "JAVA_TOOL_OPTIONS=-Xmx1g -Dx.token=abc -Dy=1", "java"},
			[]string{"env", "JAVA_TOOL_OPTIONS=-Xmx1g -Dx.token=*** -Dy=1", "java"}},
		{"sh -c script", []string{"sh", "-c", "exec java -Dpwd=p1 --db.password hunter2 -jar app.jar"},
			[]string{"sh", "-c", "exec java -Dpwd=*** --db.password *** -jar app.jar"}},
		{"quoted in a script", []string{"sh", "-c", "java --password='a b' -jar x"},
			[]string{"sh", "-c", "java --password='***' -jar x"}},
		{"next word quoted in a script", []string{"sh", "-c", `run --token "a b" now`},
			[]string{"sh", "-c", `run --token *** now`}},
		{"next word quoted in part, as the shell joins it", []string{"sh", "-c", `run --token "a b"c'd e'f now`},
			[]string{"sh", "-c", `run --token *** now`}},
		{"colon form", []string{"--db.password:hunter2"}, []string{"--db.password:***"}},
		{"json", []string{`--spring.application.json={"db":{"user":"u","password":"p w"},"port":1}`},
			[]string{`--spring.application.json={"db":{"user":"u","password":"***"},"port":1}`}},
		{"unclosed quote", []string{`--x={"password":"abc`}, []string{`--x={"password":"***`}},
		{"header", []string{"curl", "-H", "Authorization: Bearer abc.def", "-H", "X-Api-Key: k1"},
			[]string{"curl", "-H", "Authorization: ***", "-H", "X-Api-Key: ***"}},
		{"url user info", []string{"--spring.datasource.url=jdbc:postgresql://app:hunter2@db:5432/shop"},
			[]string{"--spring.datasource.url=jdbc:postgresql://app:***@db:5432/shop"}},
		{"url query", []string{"--url=http://h/p?user=a&access_token=xyz&b=1"},
			[]string{"--url=http://h/p?user=a&access_token=***"}},
		{"list index", []string{"--app.keys[0]=k"}, []string{"--app.keys[0]=***"}},
		{"keytool", []string{"keytool", "-storepass", "changeit", "-keypass", "k2"},
			[]string{"keytool", "-storepass", "***", "-keypass", "***"}},
		{"credentials, private key", []string{"--credentials=c", "--private-key-file=/k", "--auth=u:p"},
			[]string{"--credentials=***", "--private-key-file=***", "--auth=***"}},
		{"non-ascii value", []string{"--password=pä ss"}, []string{"--password=***"}},

		// Near misses: kept.
		{"keyboard", []string{"--keyboard-layout=us"}, []string{"--keyboard-layout=us"}},
		{"keyspace", []string{"--spring.data.cassandra.keyspace-name=shop"}, []string{"--spring.data.cassandra.keyspace-name=shop"}},
		{"oauth2 issuer", []string{"--spring.security.oauth2.resourceserver.jwt.issuer-uri=https://idp/x"},
			[]string{"--spring.security.oauth2.resourceserver.jwt.issuer-uri=https://idp/x"}},
		{"JVM flags", []string{"java", "-XX:+HeapDumpOnOutOfMemoryError", "-XX:HeapDumpPath=/var/lib/holdfast/runs/1", "-Xlog:gc:stdout", "-jar", "/app/key.jar"},
			[]string{"java", "-XX:+HeapDumpOnOutOfMemoryError", "-XX:HeapDumpPath=/var/lib/holdfast/runs/1", "-Xlog:gc:stdout", "-jar", "/app/key.jar"}},
		{"url without password", []string{"--url=https://user@h:443/p"}, []string{"--url=https://user@h:443/p"}},
		{"secret word as a value", []string{"--mode=password", "password"}, []string{"--mode=password", "password"}},
		{"program named like a secret", []string{"/usr/bin/token-server", "--port=1"}, []string{"/usr/bin/token-server", "--port=1"}},

		// Near misses: redacted on purpose (a name cannot be told apart from apikey).
		{"monkey", []string{"-Dmonkey=1"}, []string{"-Dmonkey=***"}},
		{"tokenizer", []string{"--tokenizer=bert"}, []string{"--tokenizer=***"}},
		{"author", []string{"--author=ann"}, []string{"--author=***"}},
		{"boolean flag", []string{"app", "--no-auth", "--port", "1"}, []string{"app", "--no-auth", "***", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Argv(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Argv(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if again := Argv(got); !slices.Equal(again, got) {
				t.Errorf("not idempotent: Argv(%q) = %q", got, again)
			}
		})
	}
}

func TestArgvKeepsInput(t *testing.T) {
	in := []string{"app", "--password=x"}
	_ = Argv(in)
	if in[1] != "--password=x" {
		t.Fatalf("Argv changed its input: %q", in)
	}
	if Argv(nil) != nil {
		t.Fatal("Argv(nil) is not nil")
	}
}

func TestSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "--Password": true, "db.passwd": true, "keyStorePassword": true,
		"apiKey": true, "api-key": true, "api_key2": true, "accesskey": true, "x.keys": true,
		"storepass": true, "authorization": true, "client-secret": true, "id_token": true,
		"-Dauth": true, "-DapiKey": true, "SESSION_COOKIE": true, "passphrase": true,
		"keyboard": false, "keyspace": false, "oauth2": false, "name": false, "": false,
		"-D": false, "--": false, "port": false, "passenger": false, "pkey-size": true,
	} {
		if got := Secret(name); got != want {
			t.Errorf("Secret(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzArgv: Argv never panics, keeps the number of arguments, is
// idempotent, and never shows the value of name=value or of --name value
// when name holds a word of Words.
func FuzzArgv(f *testing.F) {
	f.Add("spring.datasource.", 0, "", "hunter2", "java -jar x")
	f.Add("javax.net.ssl.", 1, "Store", "s3cret", `{"password":"x"}`)
	f.Add("", 4, "", "a b 'c", "http://u:p@h/")
	f.Add("x-", 11, "", "=:\"'", "--password")
	f.Fuzz(func(t *testing.T, prefix string, word int, suffix, value, other string) {
		if word < 0 {
			word = -word
		}
		w := Words[word%len(Words)].Word
		prefix, suffix = nameOnly(prefix), nameOnly(suffix)
		// Delimited, so the word stays a part of its own.
		name := prefix + "." + w + "." + suffix

		for _, in := range [][]string{
			{other, "--" + name + "=" + value, other},
			{other, other + " --" + name},
		} {
			got := Argv(in)
			if len(got) != len(in) {
				t.Fatalf("Argv(%q) = %q: length changed", in, got)
			}
			if again := Argv(got); !slices.Equal(again, got) {
				t.Fatalf("not idempotent: Argv(%q) = %q, again %q", in, got, again)
			}
		}

		in := []string{"--" + name + "=" + value, other}
		if got := Argv(in); got[0] != "--"+name+"="+Marker {
			t.Fatalf("Argv(%q)[0] = %q, want the value hidden", in, got[0])
		}
		in = []string{"--" + name, value, "x"}
		if got := Argv(in); got[1] != Marker || got[2] != "x" {
			t.Fatalf("Argv(%q) = %q, want the next argument hidden", in, got)
		}
		if word := plainWord(value); word != "" {
			in = []string{"env", "JAVA_TOOL_OPTIONS=-Xmx1g -D" + name + "=" + word + " -Dz=1"}
			want := "JAVA_TOOL_OPTIONS=-Xmx1g -D" + name + "=" + Marker + " -Dz=1"
			if got := Argv(in); got[1] != want {
				t.Fatalf("Argv(%q)[1] = %q, want %q", in, got[1], want)
			}
		}
	})
}

// nameOnly keeps the characters of a name.
func nameOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && isNameChar(byte(r)) {
			return r
		}
		return -1
	}, s)
}

// plainWord is s without blanks and quotes, or "" when nothing is left.
func plainWord(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (isSpace(byte(r)) || isQuote(byte(r))) {
			return -1
		}
		return r
	}, s)
}
