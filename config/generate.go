package config

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/contactcenter/contactcenter/internal/secretfile"
)

// generatedKeys are the config paths whose "generate" value is replaced by a secret.
var generatedKeys = [][2]string{
	{"appservice", "as_token"},
	{"appservice", "hs_token"},
	{"appservice", "sender_localpart"},
	{"encryption", "pickle_key"},
	{"privacy", "pseudonym_key"},
}

// FillGenerated replaces every "generate" secret in the config file at path with a
// random value, rewriting the file in place while keeping its comments and layout,
// then reloads it. It reports whether the file changed.
func FillGenerated(path string) (*Config, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	var doc yaml.Node
	if err = yaml.Unmarshal(data, &doc); err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	changed := false
	for _, key := range generatedKeys {
		node := lookup(&doc, key[0], key[1])
		if node == nil || node.Value != Generate {
			continue
		}
		node.Value = randomString(64)
		if key[1] == "sender_localpart" {
			node.Value = strings.ToLower(node.Value[:32])
		}
		node.Style = 0
		changed = true
	}
	if changed {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(4)
		if err = enc.Encode(&doc); err != nil {
			return nil, false, err
		}
		if err = secretfile.Write(path, buf.Bytes()); err != nil {
			return nil, false, err
		}
	}
	cfg, err := Load(path)
	return cfg, changed, err
}

// lookup finds the scalar node at section.key in a YAML document.
func lookup(doc *yaml.Node, section, key string) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	sec := mapValue(root, section)
	if sec == nil {
		return nil
	}
	return mapValue(sec, key)
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomString returns letters and digits only: a valid token, and once lowercased a
// valid localpart.
func randomString(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf)
}
