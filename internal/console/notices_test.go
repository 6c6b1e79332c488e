package console

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestEveryNoticeHasText checks that each confirmation a handler asks for
// with seeOther has its text in notices: an unknown name shows nothing.
func TestEveryNoticeHasText(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	asked := regexp.MustCompile(`seeOther\([^()]*(?:\([^()]*\)[^()]*)*, "([A-Za-z]+)"\)`)
	seen := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range asked.FindAllSubmatch(src, -1) {
			seen++
			if _, ok := notices[string(m[1])]; !ok {
				t.Errorf("%s: seeOther asks for notice %q, which has no text in notices", f, m[1])
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found %d seeOther notices; the pattern no longer matches the handlers", seen)
	}
}
